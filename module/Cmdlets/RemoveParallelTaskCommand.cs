using System;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Remove-ParallelTask: forgets finished tasks (Get-ParallelTask no longer
/// lists them; the objects keep their results). An unfinished task is an
/// error unless -Force, which stops it first. When the last task of a pool
/// made by one Start-ParallelTask call is removed, that pool goes too.
/// (Receiving a finished task without -Keep removes it as well.)
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ParallelTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Task")]
public sealed class RemoveParallelTaskCommand : ParallelTaskCmdlet
{
    /// <summary>Stop unfinished tasks, then remove them.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private const string Message = "stopped: removed with Remove-ParallelTask -Force";

    /// <summary>Unfinished tasks to stop and remove once the input has ended (stopped together, see <see cref="TaskStops"/>).</summary>
    private readonly List<ParallelTask> _unfinished = new();
    private readonly HashSet<ParallelTask> _queued = new(ReferenceEqualityComparer.Instance);

    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks()) Remove(task);
    }

    protected override void EndProcessing()
    {
        if (_unfinished.Count == 0) return;
        bool stopped = TaskStops.Together(_unfinished, Message);
        foreach (var task in _unfinished)
        {
            try
            {
                if (!stopped) NativeArgs.WithUtf8(Message, text => NativeCall.Run(() => task.Native.Stop(false, text)));
                NativeCall.Run(() => task.Native.Forget());
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteFailure(e, task);
            }
        }
    }

    private void Remove(ParallelTask? task)
    {
        if (task is null || task.IsRemoved || _queued.Contains(task)) return;
        if (!ShouldProcess(task.ToString(), Force ? "Stop and remove parallel task" : "Remove parallel task")) return;
        try
        {
            if (!task.IsFinished)
            {
                if (!Force)
                {
                    WriteError(new ErrorRecord(
                        new InvalidOperationException($"Task {task.Id} '{task.Name}' is {task.State}; wait for it (Wait-ParallelTask), or use -Force to stop and remove it."),
                        "SyncPool.NotFinished", ErrorCategory.InvalidOperation, task));
                    return;
                }
                _unfinished.Add(task);
                _queued.Add(task);
                return;
            }
            NativeCall.Run(() => task.Native.Forget());
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, task);
        }
    }
}
