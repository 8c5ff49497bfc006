using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Receive-ParallelTask: writes what tasks produced so far, as if their
/// scripts had run here: output to the pipeline, and errors, warnings,
/// verbose, debug, information and progress records through this command's
/// own streams (so -ErrorAction, -ErrorVariable, -WarningVariable and
/// redirections like 3>&amp;1 apply), interleaved in the order each task
/// wrote them. What is received is removed from the task unless -Keep.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "ParallelTask", DefaultParameterSetName = "Task")]
[OutputType(typeof(object), typeof(Hashtable))]
public sealed class ReceiveParallelTaskCommand : ParallelTaskCmdlet
{
    /// <summary>Leave the results on the tasks (a later receive writes them again).</summary>
    [Parameter]
    public SwitchParameter Keep { get; set; }

    /// <summary>
    /// Write one hashtable mapping each task's input to its output ($null,
    /// the single object, or an array), instead of the output objects.
    /// Records still go to their streams. Not for -BatchSize tasks.
    /// </summary>
    [Parameter]
    public SwitchParameter AsHashtable { get; set; }

    /// <summary>
    /// Wait for the tasks to finish, writing each one's results as soon as it
    /// has (as Wait-ParallelTask -Receive; Ctrl+C stops the unfinished ones).
    /// </summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: write each task's results once every task before it (in input order) has been written.</summary>
    [Parameter]
    public SwitchParameter InputOrder { get; set; }

    private TaskReceiver? _receiver;
    private readonly HashSet<long> _seen = new();
    private readonly PendingWait _pending;

    public ReceiveParallelTaskCommand() => _pending = new PendingWait(this);

    protected override void BeginProcessing() => _receiver = new TaskReceiver(this, Keep, AsHashtable);

    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks())
        {
            if (Wait) _pending.Add(task);
            else Receive(task);
        }
    }

    protected override void EndProcessing()
    {
        base.EndProcessing();
        if (Wait) _pending.Run(new TaskWaitLoop.Options(false, null, ValidateWaitTimeoutAttribute.Forever, _receiver, InputOrder));
        else _receiver!.Complete();
    }

    /// <summary>With -Wait, the pipeline ended before the wait began (Ctrl+C, or a terminating error while the tasks were still coming): the tasks it had been given are stopped.</summary>
    protected override void OnPipelineEnded() => _pending.PipelineEnded();

    private void Receive(ParallelTask? task)
    {
        if (task is null || !_seen.Add(task.Id)) return;
        _receiver!.Receive(task);
    }
}
