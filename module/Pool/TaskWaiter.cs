using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;

namespace SyncPool.Pool;

/// <summary>Where a wait stands, for progress bars and verbose messages.</summary>
public readonly record struct WaitProgress(int Total, int Finished, int Running, TimeSpan Elapsed)
{
    public int Unfinished => Total - Finished;

    public int PercentComplete => Total == 0 ? 100 : (int)Math.Min(100, Finished * 100L / Total);

    /// <summary>Estimated time left at the rate tasks have finished so far; null until one has.</summary>
    public TimeSpan? Remaining =>
        Finished == 0 || Finished >= Total ? null : TimeSpan.FromTicks((long)(Elapsed.Ticks / (double)Finished * (Total - Finished)));
}

/// <summary>
/// Waits for a set of tasks that may belong to several pools (Wait-ParallelTask),
/// waking every slice to report progress and to notice cancellation (Ctrl+C),
/// and tracking which tasks have finished so each check only looks at the
/// rest.
/// </summary>
public sealed class TaskWaiter
{
    private readonly IReadOnlyList<ParallelTask> _tasks;
    private readonly List<ParallelTask> _pending;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>How long one wait on a pool lasts when tasks of several pools are awaited together.</summary>
    internal const int MultiPoolSliceMilliseconds = 20;

    public TaskWaiter(IReadOnlyList<ParallelTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        foreach (var task in tasks)
        {
            ArgumentNullException.ThrowIfNull(task, nameof(tasks));
            if (task.IsRemoved) throw new TaskRemovedException(task);
        }
        _tasks = tasks;
        _pending = tasks.Distinct().ToList();
        _total = _pending.Count;
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The tasks not finished at the last check, in the order given.</summary>
    public IReadOnlyList<ParallelTask> Unfinished()
    {
        Refresh();
        return _pending.ToList();
    }

    /// <summary>The tasks finished at the last check, in the order given.</summary>
    public IReadOnlyList<ParallelTask> Finished()
    {
        Refresh();
        var pending = new HashSet<ParallelTask>(_pending);
        return _tasks.Where(t => !pending.Contains(t)).Distinct().ToList();
    }

    /// <summary>Progress right now (refreshes which tasks have finished).</summary>
    public WaitProgress Progress()
    {
        int running = Refresh();
        return new WaitProgress(_total, _total - _pending.Count, running, _clock.Elapsed);
    }

    /// <summary>
    /// Waits until every task has finished (true) or <paramref name="timeout"/>
    /// passed (false). Throws <see cref="OperationCanceledException"/> promptly
    /// when <paramref name="cancel"/> fires. <paramref name="onSlice"/> runs on
    /// the calling thread after every slice that ended without success.
    /// </summary>
    public bool WaitAll(TimeSpan timeout, CancellationToken cancel = default, Action<WaitProgress>? onSlice = null)
    {
        var deadline = Deadline.After(timeout);
        Refresh();
        foreach (var group in _pending.GroupBy(t => t.Pool).ToList())
        {
            var tasks = group.ToList();
            var remaining = deadline.IsInfinite ? Timeout.InfiniteTimeSpan : deadline.Remaining;
            if (!group.Key.WaitAll(tasks, remaining, cancel, onSlice is null ? null : () => onSlice(Progress())))
            {
                Refresh();
                return _pending.Count == 0;
            }
        }
        Refresh();
        return _pending.Count == 0;
    }

    /// <summary>
    /// Waits until at least one task has finished and returns every task
    /// finished by then (in the order given); null when <paramref name="timeout"/>
    /// passed first.
    /// </summary>
    public IReadOnlyList<ParallelTask>? WaitAny(TimeSpan timeout, CancellationToken cancel = default, Action<WaitProgress>? onSlice = null)
    {
        var deadline = Deadline.After(timeout);
        Refresh();
        if (_tasks.Count == 0) return null;
        if (_pending.Count < _total) return Finished();
        var groups = _pending.GroupBy(t => t.Pool).Select(g => (Pool: g.Key, Tasks: g.ToList())).ToList();
        if (groups.Count == 1)
        {
            var first = groups[0].Pool.WaitAny(groups[0].Tasks, deadline.IsInfinite ? Timeout.InfiniteTimeSpan : deadline.Remaining, cancel,
                onSlice is null ? null : () => onSlice(Progress()));
            return first is null ? null : Finished();
        }
        var sinceReport = Stopwatch.StartNew();
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            foreach (var (pool, tasks) in groups)
            {
                var slice = TimeSpan.FromMilliseconds(deadline.NextSlice(MultiPoolSliceMilliseconds));
                if (pool.WaitAny(tasks, slice, cancel) is not null) return Finished();
            }
            if (deadline.Passed) return null;
            if (onSlice is not null && sinceReport.ElapsedMilliseconds >= TaskPool.WaitSliceMilliseconds)
            {
                onSlice(Progress());
                sinceReport.Restart();
            }
        }
    }

    /// <summary>Drops finished tasks from the pending list; returns how many of the rest are running.</summary>
    private int Refresh()
    {
        int running = 0;
        _pending.RemoveAll(t =>
        {
            var state = t.State;
            if (state == ParallelTaskState.Running) running++;
            return state is not (ParallelTaskState.Queued or ParallelTaskState.Running);
        });
        return running;
    }
}
