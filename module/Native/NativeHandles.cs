using System;
using System.Text;

namespace SyncPool.Native;

/// <summary>
/// A task's native record lives exactly as long as its .NET handle: the
/// generated <see cref="TaskRef"/> has no finalizer, so this adds one. The
/// handle is only ever used by the <see cref="SyncPool.Pool.ParallelTask"/>
/// that owns it, so once it is unreachable no call can race the release.
/// </summary>
public partial class TaskRef
{
    ~TaskRef()
    {
        if (Context != IntPtr.Zero) Dispose();
    }
}

/// <summary>Text and id lists handed to the native core for the duration of one call.</summary>
internal static class NativeArgs
{
    /// <summary>An empty text argument (the generated slices are objects: one, shared, never disposed).</summary>
    public static SliceByte NoText { get; } = SliceByte.From(IntPtr.Zero, 0);

    public static unsafe T WithUtf8<T>(string? text, Func<SliceByte, T> call)
    {
        byte[] bytes = string.IsNullOrEmpty(text) ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(text);
        // SAFETY: the array is pinned for the duration of the call, which only borrows it.
        fixed (byte* p = bytes)
        {
            return call(SliceByte.From((IntPtr)p, (ulong)bytes.Length));
        }
    }

    public static unsafe void WithUtf8(string? text, Action<SliceByte> call)
    {
        byte[] bytes = string.IsNullOrEmpty(text) ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(text);
        // SAFETY: the array is pinned for the duration of the call, which only borrows it.
        fixed (byte* p = bytes)
        {
            call(SliceByte.From((IntPtr)p, (ulong)bytes.Length));
        }
    }

    public static unsafe T WithIds<T>(ulong[] ids, Func<SliceUlong, T> call)
    {
        // SAFETY: the array is pinned for the duration of the call, which only borrows it.
        fixed (ulong* p = ids)
        {
            return call(SliceUlong.From((IntPtr)p, (ulong)ids.Length));
        }
    }

    public static unsafe T WithIds<T>(ulong[] first, ulong[] second, Func<SliceUlong, SliceUlong, T> call)
    {
        // SAFETY: both arrays are pinned for the duration of the call, which only borrows them.
        fixed (ulong* a = first)
        fixed (ulong* b = second)
        {
            return call(SliceUlong.From((IntPtr)a, (ulong)first.Length), SliceUlong.From((IntPtr)b, (ulong)second.Length));
        }
    }

    /// <summary>Milliseconds for a native timeout: 0 = none (task timeouts).</summary>
    public static ulong TimeoutMs(TimeSpan? timeout) =>
        timeout is { } t && t > TimeSpan.Zero ? (ulong)Math.Max(1, Math.Ceiling(t.TotalMilliseconds)) : 0;

    /// <summary>Milliseconds for a native wait: <c>ulong.MaxValue</c> = forever.</summary>
    public static ulong WaitMs(TimeSpan? timeout) =>
        timeout is { } t && t != System.Threading.Timeout.InfiniteTimeSpan ? (ulong)Math.Max(0, Math.Ceiling(t.TotalMilliseconds)) : ulong.MaxValue;

    public static DateTime? Time(long micros) => micros == 0 ? null : DateTime.UnixEpoch.AddTicks(micros * 10).ToLocalTime();
}
