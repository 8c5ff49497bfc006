using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Jobs;

/// <summary>
/// The job of one Start-ParallelTask -AsJob call: one child job
/// (<see cref="ParallelTaskJob"/>) per task, so Get-Job, Wait-Job,
/// Receive-Job, Stop-Job and Remove-Job handle it as they handle a ThreadJob
/// or a ForEach-Object -Parallel -AsJob job.
/// </summary>
/// <remarks>
/// The tasks run on the engine like any others; the job only watches them.
/// One thread per job blocks in the engine's wait for the job's tasks (woken
/// by each completion, never polling) and, as each finishes, gives its child
/// job the final state and takes the task out of Get-ParallelTask (what it
/// wrote is on the child job). When the last has finished, the job takes its
/// final state: Completed if every task completed, Stopped after Stop-Job,
/// otherwise Failed. As with Start-Job's jobs, a failure's reason is on the
/// failed child only: Receive-Job writes the reason of every Failed job it
/// reads, so one on the parent too wrote each failure twice.
/// </remarks>
public sealed class ParallelJob : Job2
{
    private readonly TaskSet? _set; // null for a call without tasks
    private readonly CancelSignal _cancel = new();
    private readonly Thread _watcher;
    private readonly ParallelTaskJob[] _children;
    private int _finished;
    private volatile bool _stopRequested;
    private int _disposed;

    internal ParallelJob(string command, string? name, IReadOnlyList<ParallelTask> tasks) : base(command, name)
    {
        PSJobTypeName = nameof(ParallelJob);
        _children = tasks.Select(t => new ParallelTaskJob(t, command)).ToArray();
        foreach (var child in _children) ChildJobs.Add(child);
        _set = tasks.Count == 0 ? null : TaskSet.Create(tasks);
        _watcher = new Thread(Watch) { IsBackground = true, Name = $"SyncPool job {Id}" };
    }

    /// <summary>What the job manager needs to route Get-Job, Remove-Job and the rest to <see cref="ParallelJobSourceAdapter"/>.</summary>
    internal JobDefinition Definition => new(typeof(ParallelJobSourceAdapter), Command, Name);

    public override string Location => "PowerShell";

    public override bool HasMoreData => _children.Any(c => c.HasMoreData);

    public override string StatusMessage => $"{Volatile.Read(ref _finished)} of {_children.Length} tasks finished";

    /// <summary>The tasks are already queued: starting the job starts watching them.</summary>
    public override void StartJob()
    {
        if (JobStateInfo.State != JobState.NotStarted) throw new InvalidJobStateException(JobStateInfo.State, "The job has already been started.");
        SetJobState(JobState.Running);
        _watcher.Start();
    }

    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, null));
    }

    /// <summary>Stops every unfinished task and returns once the job has its final state (Stopped).</summary>
    public override void StopJob()
    {
        if (IsFinishedState(JobStateInfo.State)) return;
        _stopRequested = true;
        if (JobStateInfo.State == JobState.Running) SetJobState(JobState.Stopping);
        _set?.StopUnfinished(timedOut: false, "stopped: Stop-Job");
        // The engine ends stopped tasks at once (their scripts are interrupted or abandoned after), so this is short.
        Finished.WaitOne();
    }

    public override void StopJob(bool force, string reason) => StopJob();

    public override void StopJobAsync() => StopJobAsync(false, null!);

    public override void StopJobAsync(bool force, string reason)
    {
        ThreadPool.QueueUserWorkItem(_ =>
        {
            Exception? failure = null;
            try
            {
                StopJob();
            }
            catch (Exception e)
            {
                failure = e;
            }
            OnStopJobCompleted(new AsyncCompletedEventArgs(failure, false, null));
        });
    }

    public override void SuspendJob() => throw NotSupported("suspended");
    public override void SuspendJob(bool force, string reason) => throw NotSupported("suspended");
    public override void SuspendJobAsync() => throw NotSupported("suspended");
    public override void SuspendJobAsync(bool force, string reason) => throw NotSupported("suspended");
    public override void ResumeJob() => throw NotSupported("resumed");
    public override void ResumeJobAsync() => throw NotSupported("resumed");
    public override void UnblockJob() => throw NotSupported("unblocked");
    public override void UnblockJobAsync() => throw NotSupported("unblocked");

    private static PSNotSupportedException NotSupported(string what) =>
        new($"A parallel job cannot be {what}; stop it with Stop-Job, or its tasks with Stop-ParallelTask.");

    /// <summary>The watcher thread: each finished task's child job gets its state, then the job its own.</summary>
    private void Watch()
    {
        try
        {
            while (_set is not null)
            {
                long next = _set.Next(inputOrder: false, timeout: null, _cancel);
                if (next == TaskSet.End) break;
                if (next == TaskSet.Cancelled) return; // disposed
                if (next < 0) continue;
                var child = _children[next];
                child.Finish();
                Interlocked.Increment(ref _finished);
                // What it wrote is on the child job: the task leaves Get-ParallelTask.
                child.Task.Unlist();
            }
            Finish();
        }
        catch (Exception e)
        {
            TaskEngine.ReportFault($"Watching the tasks of job {Id} ('{Name}') failed", e);
            SetFinalState(JobState.Failed, new InvalidOperationException($"SyncPool could not follow the tasks of this job: {e.Message}", e));
        }
        finally
        {
            // Removed by a handler of its own final state (Receive-Job -Wait -AutoRemoveJob), on this thread.
            if (Volatile.Read(ref _disposed) == 1) ReleaseWait();
        }
    }

    private void Finish()
    {
        if (_stopRequested)
        {
            SetFinalState(JobState.Stopped, new PipelineStoppedException());
            return;
        }
        var failed = _children.FirstOrDefault(c => c.JobStateInfo.State != JobState.Completed);
        if (failed is null) SetFinalState(JobState.Completed, null);
        else SetFinalState(JobState.Failed, null);
    }

    private void SetFinalState(JobState state, Exception? reason)
    {
        if (IsFinishedState(JobStateInfo.State)) return;
        if (!JobStateSetter.TrySet(this, state, reason)) SetJobState(state);
    }

    private static bool IsFinishedState(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;

    /// <summary>Remove-Job: the watcher ends, the wait is released; tasks still running are stopped first (by Remove-Job -Force's StopJob).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _cancel.Signal();
            _set?.StopUnfinished(timedOut: false, "stopped: its job was removed");
            // A state-change handler may remove the job from the watcher thread itself:
            // then the watcher releases the wait as it returns, instead of being joined.
            if (Thread.CurrentThread != _watcher)
            {
                if (_watcher.IsAlive) _watcher.Join();
                ReleaseWait();
            }
        }
        base.Dispose(disposing);
    }

    private int _released;

    /// <summary>The job's tasks leave Get-ParallelTask and the engine wait is let go of (once, after the watcher is done).</summary>
    private void ReleaseWait()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        try
        {
            foreach (var child in _children)
            {
                if (!child.Task.IsRemoved && child.Task.IsFinished) child.Task.Unlist();
            }
        }
        catch (Exception e)
        {
            TaskEngine.ReportFault($"Releasing the tasks of job {Id} failed", e);
        }
        _set?.Dispose();
        _cancel.Dispose();
    }
}
