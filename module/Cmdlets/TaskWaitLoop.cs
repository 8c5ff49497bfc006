using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// The wait of Wait-ParallelTask and Receive-ParallelTask -Wait: blocks in
/// the engine until the tasks have finished (or one, with -Any), woken by
/// each completion, writes each task's results as soon as it finishes (in
/// completion order, or input order with -InputOrder), shows an overall
/// progress bar, ends at -Timeout, and on Ctrl+C (or a later command that
/// needs no more, such as Select-Object -First) stops the tasks it waited on
/// that have not finished.
/// </summary>
internal static class TaskWaitLoop
{
    /// <summary>How one wait behaves; <see cref="Receiver"/> null writes the task objects instead of their results.</summary>
    public sealed record Options(bool Any, TimeSpan? Limit, double TimeoutText, TaskReceiver? Receiver, bool InputOrder);

    /// <summary>Progress record id (stable, so the host replaces the bar instead of stacking).</summary>
    private const int ProgressId = 0x5350;

    /// <summary>How often the progress bar and verbose messages are refreshed while nothing finishes.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    /// <summary>Waits for <paramref name="given"/> (each once; removed ones are reported, the rest waited for).</summary>
    public static void Run(ParallelTaskCmdlet cmdlet, IEnumerable<ParallelTask> given, Options options)
    {
        var removed = new List<ParallelTask>();
        using var set = Listed(given, removed.Add);
        try
        {
            // Written once the set exists, so a stop that comes while they are written stops the rest.
            foreach (var task in removed) cmdlet.WriteError(ParallelLookup.Removed(task));
            if (set is not null) new Loop(cmdlet, set, options).Run();
        }
        catch (PipelineStoppedException)
        {
            // Ctrl+C, or a later command that needs no more (Select-Object -First):
            // what was waited on and has not finished is stopped.
            set?.StopUnfinished(timedOut: false, StoppedMessage(cmdlet));
            throw;
        }
    }

    /// <summary>Stops those of <paramref name="given"/> that have not finished (removed ones skipped), as a stopped wait does.</summary>
    public static void StopUnfinished(ParallelTaskCmdlet cmdlet, IEnumerable<ParallelTask> given)
    {
        using var set = Listed(given, removed: null);
        set?.StopUnfinished(timedOut: false, StoppedMessage(cmdlet));
    }

    private static string StoppedMessage(ParallelTaskCmdlet cmdlet) =>
        $"stopped: the {cmdlet.MyInvocation.MyCommand.Name} waiting for it was stopped";

    /// <summary>The engine's set of <paramref name="given"/> (each once) without the removed ones, each handed to <paramref name="removed"/>; null if none is left.</summary>
    private static TaskSet? Listed(IEnumerable<ParallelTask> given, Action<ParallelTask>? removed)
    {
        var tasks = ParallelLookup.Distinct(given);
        if (tasks.Count == 0) return null;
        try
        {
            return TaskSet.Create(tasks);
        }
        catch (SyncPoolException e) when (e.Code.IsUnknownTask)
        {
            // Some were removed: say which, and take the rest.
            var listed = new List<ParallelTask>(tasks.Count);
            foreach (var task in tasks)
            {
                if (task.IsRemoved) removed?.Invoke(task);
                else listed.Add(task);
            }
            return listed.Count == 0 ? null : TaskSet.Create(listed);
        }
    }

    /// <summary>One wait: delivers the tasks as they finish, reports progress, ends at the deadline or on Ctrl+C.</summary>
    private sealed class Loop(ParallelTaskCmdlet cmdlet, TaskSet set, Options options)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Stopwatch _sinceVerbose = Stopwatch.StartNew();
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private readonly TaskReceiver? _receiver = options.Receiver;
        private bool _progressShown;

        private IReadOnlyList<ParallelTask> Tasks => set.Tasks;

        public void Run()
        {
            TimeSpan? limit = options.Limit;
            Report(force: true);
            if (_receiver is not null && !options.Any)
            {
                Stream(limit);
                return;
            }
            // Without -Receive the wait is woken once, when it is over (or at a heartbeat for the progress bar).
            while (true)
            {
                var slice = Slice(limit, out bool last);
                var end = set.Block(options.Any, slice, cmdlet.Cancel);
                if (end == TaskSet.BlockEnd.Done) break;
                if (end == TaskSet.BlockEnd.Cancelled) throw new PipelineStoppedException();
                if (last)
                {
                    TimedOut();
                    return;
                }
                Report(force: true);
            }
            var finished = options.Any ? TakeFinished() : null;
            Finish(finished?.Count ?? Tasks.Count);
            Deliver(finished);
        }

        /// <summary>-Receive without -Any: each task's results as soon as it finishes, in completion order.</summary>
        private void Stream(TimeSpan? limit)
        {
            while (true)
            {
                var slice = Slice(limit, out bool last);
                long next = set.Next(options.InputOrder, slice, cmdlet.Cancel);
                if (next >= 0)
                {
                    _receiver!.Receive(Tasks[(int)next]);
                    Report(force: false);
                    continue;
                }
                if (next == TaskSet.End) break;
                if (next == TaskSet.Cancelled) throw new PipelineStoppedException();
                if (last)
                {
                    TimedOut();
                    return;
                }
                Report(force: true);
            }
            Finish(Tasks.Count);
            _receiver!.Complete();
        }

        /// <summary>How long the next native wait may block: up to the next heartbeat, or what is left of -Timeout (then <paramref name="last"/>).</summary>
        private TimeSpan Slice(TimeSpan? limit, out bool last)
        {
            last = false;
            if (limit is not { } l) return Heartbeat;
            var left = l - _clock.Elapsed;
            if (left <= Heartbeat)
            {
                last = true;
                return left < TimeSpan.Zero ? TimeSpan.Zero : left;
            }
            return Heartbeat;
        }

        /// <summary>The tasks finished by now, in the order given (what -Any returns).</summary>
        private List<int> TakeFinished()
        {
            var finished = new List<int>();
            long next;
            while ((next = set.Next(inputOrder: false, TimeSpan.Zero, cmdlet.Cancel)) >= 0) finished.Add((int)next);
            return finished;
        }

        private void Finish(int count)
        {
            Complete();
            cmdlet.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"{(options.Any ? $"{count} of {Tasks.Count}" : $"All {Tasks.Count}")} tasks finished. Waited for {_clock.Elapsed.TotalSeconds:N3} seconds."));
        }

        /// <summary>-Any keeps collecting what has finished without waiting more.</summary>
        private void Deliver(List<int>? only)
        {
            if (only is not null)
            {
                only.Sort();
                foreach (int i in only)
                {
                    if (_receiver is not null) _receiver.Receive(Tasks[i]);
                    else cmdlet.WriteObject(Tasks[i]);
                }
            }
            else if (_receiver is null)
            {
                foreach (var task in Tasks) cmdlet.WriteObject(task);
            }
            _receiver?.Complete();
        }

        private void TimedOut()
        {
            Complete();
            if (options.Any)
            {
                cmdlet.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"None of the {Tasks.Count} tasks finished within {options.TimeoutText} s."));
                return;
            }
            string message = string.Create(CultureInfo.InvariantCulture, $"timed out: Wait-ParallelTask -Timeout {options.TimeoutText} ran out");
            int stopped = set.StopUnfinished(timedOut: true, message);
            if (_receiver is not null)
            {
                // Each timed-out task writes its own SyncPool.TaskTimedOut error as it is received.
                foreach (int i in TakeFinished()) _receiver.Receive(Tasks[i]);
                Deliver(null);
                return;
            }
            cmdlet.WriteError(new ErrorRecord(
                new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"{stopped} of {Tasks.Count} tasks had not finished after {options.TimeoutText} s; they were stopped and are now TimedOut.")),
                "SyncPool.WaitTimeout", ErrorCategory.OperationTimeout, Tasks));
            Deliver(null);
        }

        private void Report(bool force)
        {
            if (!force && _sinceProgress.ElapsedMilliseconds < 100) return;
            _sinceProgress.Restart();
            var (total, done, running) = set.Progress();
            double elapsed = _clock.Elapsed.TotalSeconds;
            int? remaining = done == 0 || done >= total ? null : (int)Math.Ceiling(elapsed / done * (total - done));
            cmdlet.WriteProgress(new ProgressRecord(ProgressId, $"Waiting for {Tasks.Count} parallel task{(Tasks.Count == 1 ? "" : "s")}",
                string.Create(CultureInfo.InvariantCulture, $"{done} of {total} finished, {running} running, {total - done - running} queued"))
            {
                PercentComplete = total == 0 ? 100 : (int)Math.Min(100, done * 100L / total),
                SecondsRemaining = remaining ?? -1,
                CurrentOperation = string.Create(CultureInfo.InvariantCulture, $"Waited {elapsed:N1} s"),
            });
            _progressShown = true;
            if (_sinceVerbose.ElapsedMilliseconds >= 1000)
            {
                cmdlet.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                    $"Waiting for {total - done} tasks to finish. Waited for {elapsed:N3} seconds."));
                _sinceVerbose.Restart();
            }
        }

        /// <summary>Removes the bar.</summary>
        private void Complete()
        {
            if (!_progressShown) return;
            cmdlet.WriteProgress(new ProgressRecord(ProgressId, $"Waiting for {Tasks.Count} parallel tasks", "Done")
            {
                RecordType = ProgressRecordType.Completed,
            });
            _progressShown = false;
        }
    }
}
