using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Wait-ParallelTask: waits until the given tasks have finished (or any one,
/// with -Any), showing an overall progress bar, then writes the tasks (or,
/// with -Receive, what they produced). Ctrl+C stops the tasks it waited on
/// and returns at once.
/// </summary>
/// <remarks>
/// -Timeout limits the wait: tasks not finished by then are stopped and end
/// TimedOut (status "timed out: Wait-ParallelTask -Timeout ..."), and a
/// non-terminating SyncPool.WaitTimeout error is written. With -Any, a
/// timeout only means no task finished in time: nothing is stopped and
/// nothing is written (as Wait-Job -Any -Timeout), so it can be polled in a
/// loop. A task's own time limit is Start-ParallelTask -TimeoutSeconds.
/// </remarks>
[Cmdlet(VerbsLifecycle.Wait, "ParallelTask", DefaultParameterSetName = "Task")]
[OutputType(typeof(ParallelTask), typeof(object), typeof(Hashtable))]
public sealed class WaitParallelTaskCommand : ParallelTaskCmdlet
{
    /// <summary>Return as soon as one task has finished, with every task finished by then.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>The most seconds to wait. Tasks not finished by then are stopped (TimedOut); with -Any nothing is stopped and nothing returned.</summary>
    [Parameter]
    [ValidatePositiveSeconds]
    public double? Timeout { get; set; }

    /// <summary>Write what the tasks produced (as Receive-ParallelTask does) instead of the task objects.</summary>
    [Parameter]
    public SwitchParameter Receive { get; set; }

    /// <summary>With -Receive: one hashtable, each task's input mapped to its output. Implies -Receive.</summary>
    [Parameter]
    public SwitchParameter AsHashtable { get; set; }

    private readonly List<ParallelTask> _tasks = new();

    /// <summary>Progress record id (stable, so the host replaces the bar instead of stacking).</summary>
    private const int ProgressId = 0x5350;

    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks())
        {
            if (task.IsRemoved) WriteError(ParallelLookup.Removed(task));
            else _tasks.Add(task);
        }
    }

    protected override void EndProcessing()
    {
        var tasks = ParallelLookup.Distinct(_tasks);
        if (tasks.Count == 0) return;

        TaskWaiter waiter;
        try
        {
            waiter = new TaskWaiter(tasks);
        }
        catch (TaskRemovedException e)
        {
            WriteError(ParallelLookup.Removed(e.Task));
            return;
        }

        var timeout = Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : System.Threading.Timeout.InfiniteTimeSpan;
        var reporter = new Reporter(this, tasks.Count);
        IReadOnlyList<ParallelTask> result;
        bool timedOut;
        try
        {
            if (Any)
            {
                var finished = waiter.WaitAny(timeout, StopToken, reporter.Report);
                timedOut = finished is null;
                result = finished ?? Array.Empty<ParallelTask>();
            }
            else
            {
                timedOut = !waiter.WaitAll(timeout, StopToken, reporter.Report);
                result = tasks;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or PipelineStoppedException)
        {
            // Ctrl+C / PowerShell.Stop(): what it waited on stops too; the
            // pipeline reports the stop when this returns.
            StopAll(waiter.Unfinished(), ParallelTaskState.Stopped, null);
            return;
        }
        catch (TaskRemovedException e)
        {
            reporter.Complete();
            WriteError(ParallelLookup.Removed(e.Task));
            return;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            reporter.Complete();
            ThrowFailure(e, null);
            return;
        }
        reporter.Complete();

        if (timedOut && Any)
        {
            WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"None of the {tasks.Count} tasks finished within {Timeout} s."));
            return;
        }
        if (timedOut)
        {
            var unfinished = waiter.Unfinished();
            string message = string.Create(CultureInfo.InvariantCulture, $"timed out: Wait-ParallelTask -Timeout {Timeout} ran out");
            StopAll(unfinished, ParallelTaskState.TimedOut, message);
            WriteError(new ErrorRecord(
                new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"{unfinished.Count} of {tasks.Count} tasks had not finished after {Timeout} s; they were stopped and are now TimedOut.")),
                "SyncPool.WaitTimeout", ErrorCategory.OperationTimeout, unfinished));
        }
        else
        {
            WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"{(Any ? $"{result.Count} of {tasks.Count}" : $"All {tasks.Count}")} tasks finished. Waited for {waiter.Elapsed.TotalSeconds:N3} seconds."));
        }

        if (Receive || AsHashtable)
        {
            var receiver = new TaskReceiver(this, keep: false, asHashtable: AsHashtable);
            foreach (var task in result) receiver.Receive(task);
            receiver.Complete();
        }
        else
        {
            foreach (var task in result) WriteObject(task);
        }
    }

    private void StopAll(IEnumerable<ParallelTask> tasks, ParallelTaskState endAs, string? message)
    {
        foreach (var task in tasks)
        {
            try
            {
                task.Pool.Stop(task, endAs, message);
            }
            catch (Exception e) when (e is ObjectDisposedException or SyncPoolException)
            {
                // The pool went away or the task was removed meanwhile: nothing left to stop.
            }
        }
    }

    /// <summary>Progress bar and verbose messages while waiting (called on the cmdlet's thread each slice).</summary>
    private sealed class Reporter(WaitParallelTaskCommand cmdlet, int total)
    {
        private readonly Stopwatch _sinceVerbose = Stopwatch.StartNew();
        private bool _shown;

        public void Report(WaitProgress progress)
        {
            var record = new ProgressRecord(ProgressId, $"Waiting for {total} parallel task{(total == 1 ? "" : "s")}",
                string.Create(CultureInfo.InvariantCulture,
                    $"{progress.Finished} of {progress.Total} finished, {progress.Running} running, {progress.Unfinished - progress.Running} queued"))
            {
                PercentComplete = progress.PercentComplete,
                SecondsRemaining = progress.Remaining is { } left ? (int)Math.Ceiling(left.TotalSeconds) : -1,
                CurrentOperation = string.Create(CultureInfo.InvariantCulture, $"Waited {progress.Elapsed.TotalSeconds:N1} s"),
            };
            cmdlet.WriteProgress(record);
            _shown = true;
            if (_sinceVerbose.ElapsedMilliseconds >= 1000)
            {
                cmdlet.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                    $"Waiting for {progress.Unfinished} tasks to finish. Waited for {progress.Elapsed.TotalSeconds:N3} seconds."));
                _sinceVerbose.Restart();
            }
        }

        /// <summary>Removes the bar.</summary>
        public void Complete()
        {
            if (!_shown) return;
            cmdlet.WriteProgress(new ProgressRecord(ProgressId, $"Waiting for {total} parallel tasks", "Done")
            {
                RecordType = ProgressRecordType.Completed,
            });
            _shown = false;
        }
    }
}
