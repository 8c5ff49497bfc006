using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SyncPool;
using SyncPool.Native;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>Panics, disposal and loading: failures become exceptions, never crashes.</summary>
public class NativeFaultTests
{
    [Fact]
    public unsafe void A_rust_panic_becomes_an_exception_and_the_process_keeps_running()
    {
        NativeLibraryLoader.EnsureLoaded();
        var text = Encoding.UTF8.GetBytes("deliberate test panic");
        SyncPoolException e;
        fixed (byte* p = text)
        {
            var slice = SliceByte.From((IntPtr)p, (ulong)text.Length);
            e = Assert.Throws<SyncPoolException>(() => NativeCall.Run(() => Interop.syncpool_test_panic(slice).AsOk()));
        }
        Assert.Equal("SyncPool.Panic", e.ErrorId);
        Assert.Contains("deliberate test panic", e.Message);
        using var t = new SyncTable();   // the library still works afterwards
        t["after"] = 1;
        Assert.Equal(1, t["after"]);
    }

    [Fact]
    public void Use_after_dispose_is_ObjectDisposedException()
    {
        var t = new SyncTable();
        t["k"] = 1;
        t.Dispose();
        t.Dispose(); // idempotent
        Assert.True(t.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => t["k"]);
        Assert.Throws<ObjectDisposedException>(() => t["k"] = 2);
        Assert.Throws<ObjectDisposedException>(() => t.Count);
        Assert.Throws<ObjectDisposedException>(() => t.Increment("k"));
        Assert.Throws<ObjectDisposedException>(() => t.Snapshot());
    }

    [Fact]
    public void Dispose_while_other_threads_call_never_crashes()
    {
        for (int round = 0; round < 20; round++)
        {
            var t = new SyncTable();
            using var go = new Barrier(3);
            var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                go.SignalAndWait();
                try
                {
                    for (int i = 0; i < 100_000; i++) t.Increment("k");
                }
                catch (ObjectDisposedException)
                {
                    // expected once Dispose wins
                }
            })).ToArray();
            go.SignalAndWait();
            Thread.Sleep(1);
            t.Dispose();
            Assert.True(Task.WaitAll(callers, TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public void The_native_library_is_loaded_from_the_module_folder()
    {
        string expected = NativeLibraryLoader.ExpectedPath;
        Assert.True(File.Exists(expected), $"expected the library at {expected}");
        Assert.Contains(Path.Combine("runtimes", NativeLibraryLoader.RuntimeFolder, "native"), expected);
        Assert.NotEqual(Path.GetDirectoryName(expected), Environment.CurrentDirectory);
        NativeLibraryLoader.EnsureLoaded();
        NativeLibraryLoader.EnsureLoaded(); // registering twice would throw: it must be once-only
    }

    [Fact]
    public void A_missing_library_is_an_error_naming_the_path()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-dir", NativeLibraryLoader.LibraryFileName);
        var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.LoadFrom(missing));
        Assert.Contains(missing, e.Message);
    }
}
