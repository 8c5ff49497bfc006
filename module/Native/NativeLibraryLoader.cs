using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using SyncPool.Native;

namespace SyncPool.Native;

/// <summary>
/// Finds the Rust library in the module's own folder. pwsh's search path
/// (its install directory, the current directory) never contains it, so the
/// bindings' <c>[LibraryImport("syncpool")]</c> is resolved here instead.
/// </summary>
public static class NativeLibraryLoader
{
    private static readonly object Gate = new();
    private static bool _registered;
    private static IntPtr _handle;

    /// <summary>File name of the native library on this OS.</summary>
    public static string LibraryFileName =>
        OperatingSystem.IsWindows() ? "syncpool.dll" :
        OperatingSystem.IsMacOS() ? "libsyncpool.dylib" : "libsyncpool.so";

    /// <summary>The runtime identifier folder the module ships the library in.</summary>
    public static string RuntimeFolder
    {
        get
        {
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            return $"{os}-{arch}";
        }
    }

    /// <summary>Where the library is expected: &lt;module dir&gt;/runtimes/&lt;rid&gt;/native/.</summary>
    public static string ExpectedPath
    {
        get
        {
            string dir = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location) ?? ".";
            return Path.Combine(dir, "runtimes", RuntimeFolder, "native", LibraryFileName);
        }
    }

    /// <summary>
    /// Registers the resolver (once per process: a second registration throws)
    /// and loads the library now, so a missing file fails Import-Module with a
    /// message naming the path rather than failing on first use.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (!_registered)
            {
                NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
                _registered = true;
            }
            if (_handle == IntPtr.Zero)
            {
                _handle = Load();
            }
        }
    }

    /// <summary>The loaded library (loading it first if needed), for exports called through function pointers.</summary>
    internal static IntPtr Handle
    {
        get
        {
            EnsureLoaded();
            return _handle;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Interop.NativeLib) return IntPtr.Zero;
        lock (Gate)
        {
            if (_handle == IntPtr.Zero) _handle = Load();
            return _handle;
        }
    }

    private static IntPtr Load() => LoadFrom(ExpectedPath);

    /// <summary>Loads the library from <paramref name="path"/>, or fails with a message naming it.</summary>
    internal static IntPtr LoadFrom(string path)
    {
        if (!File.Exists(path))
        {
            throw new DllNotFoundException(
                $"SyncPool's native library was not found at '{path}'. Reinstall the module, or rebuild it with './build.ps1'.");
        }
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new DllNotFoundException($"SyncPool's native library at '{path}' could not be loaded: {e.Message}", e);
        }
    }
}
