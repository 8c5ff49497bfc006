using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Wait-ParallelTask: waits until the given tasks have finished (or any one,
/// with -Any), showing an overall progress bar, then writes the tasks (or,
/// with -Receive, what they produced, each task's as soon as it finishes).
/// The wait blocks in the engine and is woken by each completion; Ctrl+C
/// stops the tasks it waited on (or had been given, if its input was still
/// coming) and returns at once.
/// </summary>
/// <remarks>
/// -Timeout limits the wait: tasks not finished by then are stopped and end
/// TimedOut (status "timed out: Wait-ParallelTask -Timeout ..."), and a
/// non-terminating SyncPool.WaitTimeout error is written. With -Any, a
/// timeout only means no task finished in time: nothing is stopped and
/// nothing is written (as Wait-Job -Any -Timeout), so it can be polled in a
/// loop. A task's own time limit is Start-ParallelTask -TimeoutSeconds.
/// A command after this one that stops early (Select-Object -First) stops
/// the tasks still unfinished.
/// </remarks>
[Cmdlet(VerbsLifecycle.Wait, "ParallelTask", DefaultParameterSetName = "Task")]
[OutputType(typeof(ParallelTask), typeof(object), typeof(Hashtable))]
public sealed class WaitParallelTaskCommand : ParallelTaskCmdlet
{
    /// <summary>Return as soon as one task has finished, with every task finished by then.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>The most seconds to wait (-1, the default: no limit; 0: do not wait). Tasks not finished by then are stopped (TimedOut); with -Any nothing is stopped and nothing returned.</summary>
    [Parameter]
    [ValidateWaitTimeout]
    public double Timeout { get; set; } = ValidateWaitTimeoutAttribute.Forever;

    /// <summary>Write what the tasks produced (as Receive-ParallelTask does) instead of the task objects, each task's as soon as it finishes.</summary>
    [Parameter]
    public SwitchParameter Receive { get; set; }

    /// <summary>With -Receive: one hashtable, each task's input mapped to its output. Implies -Receive.</summary>
    [Parameter]
    public SwitchParameter AsHashtable { get; set; }

    /// <summary>With -Receive: write each task's results once every task before it (in input order) has been written, still as soon as that is possible.</summary>
    [Parameter]
    public SwitchParameter InputOrder { get; set; }

    private readonly PendingWait _pending;

    public WaitParallelTaskCommand() => _pending = new PendingWait(this);

    /// <summary>Collects the tasks; removed ones are found when the wait is made (one crossing for all).</summary>
    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks()) _pending.Add(task);
    }

    protected override void EndProcessing()
    {
        EngineFaults.Report(this);
        var receiver = Receive || AsHashtable ? new TaskReceiver(this, keep: false, asHashtable: AsHashtable) : null;
        _pending.Run(new TaskWaitLoop.Options(Any, ValidateWaitTimeoutAttribute.Limit(Timeout), Timeout, receiver, InputOrder));
    }

    /// <summary>The pipeline ended before the wait began (Ctrl+C, or a terminating error while the tasks were still coming): the tasks it had been given are stopped.</summary>
    protected override void OnPipelineEnded() => _pending.PipelineEnded();
}
