using System;
using System.Diagnostics;
using System.Threading;

namespace SyncPool;

/// <summary>
/// A point in time a wait must end by. Native waits are made in short slices
/// (the wake-up on success is immediate; the slice only bounds how late a
/// Ctrl+C is noticed), and this keeps the slices adding up to the timeout.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _endTimestamp; // long.MaxValue = never

    private Deadline(long endTimestamp) => _endTimestamp = endTimestamp;

    public static Deadline After(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan || timeout == TimeSpan.MaxValue) return new Deadline(long.MaxValue);
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "A timeout cannot be negative.");
        long ticks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        return new Deadline(Stopwatch.GetTimestamp() + ticks);
    }

    public bool IsInfinite => _endTimestamp == long.MaxValue;

    public bool Passed => !IsInfinite && Stopwatch.GetTimestamp() >= _endTimestamp;

    public TimeSpan Remaining => IsInfinite
        ? Timeout.InfiniteTimeSpan
        : TimeSpan.FromSeconds(Math.Max(0, _endTimestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    /// <summary>Milliseconds for the next wait: the remaining time, capped at <paramref name="sliceMs"/>.</summary>
    public ulong NextSlice(int sliceMs)
    {
        if (IsInfinite) return (ulong)sliceMs;
        double remaining = Remaining.TotalMilliseconds;
        return (ulong)Math.Clamp(Math.Ceiling(remaining), 0, sliceMs);
    }

    /// <summary>
    /// Repeats a native wait of at most <paramref name="sliceMs"/> until it
    /// reports success (true), the timeout passes (false) or
    /// <paramref name="cancel"/> fires (throws). <paramref name="onSlice"/>
    /// runs after each unsuccessful slice (progress reporting).
    /// </summary>
    public static bool WaitInSlices(TimeSpan timeout, CancellationToken cancel, int sliceMs, Func<ulong, bool> attempt, Action? onSlice = null)
    {
        var deadline = After(timeout);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            if (attempt(deadline.NextSlice(sliceMs))) return true;
            onSlice?.Invoke();
            if (deadline.Passed) return false;
        }
    }
}
