using System;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Jobs;

/// <summary>
/// One task of a <see cref="ParallelJob"/>, as a child job: what the task
/// writes goes straight to this job's streams (Output, Error, Warning,
/// Verbose, Debug, Information, Progress), and its state follows the task's
/// (Queued: NotStarted; Running; Completed; Failed; Stopped; TimedOut: Failed
/// with a TimeoutException as JobStateInfo.Reason).
/// </summary>
public sealed class ParallelTaskJob : Job, ITaskResultSink
{
    private readonly object _gate = new();
    private bool _finished;

    internal ParallelTaskJob(ParallelTask task, string command) : base(command, task.Name)
    {
        Task = task;
        PSJobTypeName = nameof(ParallelTaskJob);
        // Record collections never block an enumerating reader (Receive-Job while the task runs).
        Output.EnumeratorNeverBlocks = true;
        Error.EnumeratorNeverBlocks = true;
        task.Results.Attach(this);
        if (task.State == TaskState.Running) Started();
    }

    /// <summary>The task this job is.</summary>
    public ParallelTask Task { get; }

    public override string Location => "PowerShell";

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0 || Progress.Count > 0;

    public override string StatusMessage => Task.StatusMessage ?? string.Empty;

    /// <summary>Stops the task (it ends Stopped; the job follows when the parent job sees it end).</summary>
    public override void StopJob() => Task.Stop("stopped: Stop-Job");

    void ITaskResultSink.Write(TaskItem item)
    {
        if (item.IsOutput)
        {
            Output.Add(item.Output is null ? null : PSObject.AsPSObject(item.Output));
            return;
        }
        var record = item.Record!;
        switch (record.Stream, record.Data)
        {
            case (TaskStream.Error, ErrorRecord error):
                Error.Add(error);
                break;
            case (TaskStream.Error, Exception fault):
                Error.Add(new ErrorRecord(fault, "SyncPool.TaskFault", ErrorCategory.NotSpecified, Task));
                break;
            case (TaskStream.Warning, WarningRecord warning):
                Warning.Add(warning);
                break;
            case (TaskStream.Verbose, VerboseRecord verbose):
                Verbose.Add(verbose);
                break;
            case (TaskStream.Debug, DebugRecord debug):
                Debug.Add(debug);
                break;
            case (TaskStream.Information, InformationRecord information):
                Information.Add(information);
                break;
            case (TaskStream.Progress, ProgressRecord progress):
                Progress.Add(progress);
                break;
            case (TaskStream.Warning, var other):
                Warning.Add(new WarningRecord(other.ToString()));
                break;
            case (TaskStream.Verbose, var other):
                Verbose.Add(new VerboseRecord(other.ToString()));
                break;
            case (TaskStream.Debug, var other):
                Debug.Add(new DebugRecord(other.ToString()));
                break;
            default:
                Information.Add(new InformationRecord(record.Data, "SyncPool"));
                break;
        }
    }

    /// <summary>The task's script started: NotStarted to Running (never after it has finished).</summary>
    public void Started()
    {
        lock (_gate)
        {
            if (_finished || JobStateInfo.State != JobState.NotStarted) return;
            SetJobState(JobState.Running);
        }
    }

    /// <summary>The task has finished: the job takes the matching final state, with the reason.</summary>
    internal void Finish()
    {
        var state = Task.State;
        var (jobState, reason) = FinalState(state);
        lock (_gate)
        {
            if (_finished) return;
            _finished = true;
            if (!JobStateSetter.TrySet(this, jobState, reason)) SetJobState(jobState);
        }
    }

    private (JobState, Exception?) FinalState(TaskState state)
    {
        string message = Task.StatusMessage ?? state.ToString();
        if (state == TaskState.Completed) return (JobState.Completed, null);
        if (state == TaskState.Stopped) return (JobState.Stopped, new PipelineStoppedException());
        if (state == TaskState.TimedOut) return (JobState.Failed, new TimeoutException($"Task {Task.Id} '{Task.Name}' {message}."));
        // Failed: the terminating error the script ended with, else the engine's reason.
        var errors = Task.Errors;
        Exception reason = errors.Count > 0 && errors[^1] is ErrorRecord last
            ? last.Exception
            : new InvalidOperationException($"Task {Task.Id} '{Task.Name}' failed: {message}");
        return (JobState.Failed, reason);
    }
}
