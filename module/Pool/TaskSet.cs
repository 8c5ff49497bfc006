using System;
using System.Collections.Generic;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// A wait for a set of tasks, across pools, in the engine: woken by each
/// completion or by a cancel signal, never polling. Tasks are delivered by
/// their index in <see cref="Tasks"/>.
/// </summary>
internal sealed class TaskSet : IDisposable
{
    private readonly TaskWait _wait;

    private TaskSet(IReadOnlyList<ParallelTask> tasks, TaskWait wait)
    {
        Tasks = tasks;
        _wait = wait;
    }

    public IReadOnlyList<ParallelTask> Tasks { get; }

    /// <summary>A wait for <paramref name="tasks"/> (all still listed; a removed one is refused with SyncPoolException UnknownTask).</summary>
    public static TaskSet Create(IReadOnlyList<ParallelTask> tasks)
    {
        var pools = new ulong[tasks.Count];
        var ids = new ulong[tasks.Count];
        for (int i = 0; i < tasks.Count; i++)
        {
            pools[i] = tasks[i].Pool.NativeId;
            ids[i] = (ulong)tasks[i].Id;
        }
        var wait = NativeCall.Run(() => NativeArgs.WithIds(pools, ids, (p, t) => TaskWait.Create(p, t)));
        return new TaskSet(tasks, wait);
    }

    /// <summary>What <see cref="Next"/> returns besides an index.</summary>
    public const long End = -1, TimedOut = -2, Cancelled = -3;

    /// <summary>The index of the next finished task (completion or input order), or <see cref="End"/>, <see cref="TimedOut"/>, <see cref="Cancelled"/>.</summary>
    public long Next(bool inputOrder, TimeSpan? timeout, CancelSignal cancel) =>
        NativeCall.Run(() => _wait.Next(inputOrder, NativeArgs.WaitMs(timeout), cancel.Id));

    /// <summary>How <see cref="Block"/> ended.</summary>
    public enum BlockEnd : byte { Done = 0, TimedOut = 1, Cancelled = 2 }

    /// <summary>Blocks until every task (or, with <paramref name="any"/>, one) has finished; woken once, not per task.</summary>
    public BlockEnd Block(bool any, TimeSpan? timeout, CancelSignal cancel) =>
        (BlockEnd)NativeCall.Run(() => _wait.Block(any, NativeArgs.WaitMs(timeout), cancel.Id));

    public bool IsDone(int index) => NativeCall.Run(() => _wait.IsDone((ulong)index)).Is;

    public (int Total, int Finished, int Running) Progress()
    {
        var p = NativeCall.Run(() => _wait.Progress());
        return ((int)p.total, (int)p.finished, (int)p.running);
    }

    /// <summary>Ends every unfinished task Stopped (or TimedOut) with <paramref name="message"/>; returns how many.</summary>
    public int StopUnfinished(bool timedOut, string message) =>
        (int)NativeCall.Run(() => NativeArgs.WithUtf8(message, text => _wait.StopUnfinished(timedOut, text)));

    public void Dispose() => _wait.Dispose();
}
