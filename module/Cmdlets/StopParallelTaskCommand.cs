using System;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Stop-ParallelTask: stops tasks. A queued task never runs; a running one
/// is asked to stop (its pipeline is stopped) and ends Stopped at once; if
/// its script is stuck in a call PowerShell cannot interrupt, its worker is
/// abandoned after the stop grace and replaced. Finished tasks are unchanged.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "ParallelTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Task")]
[OutputType(typeof(ParallelTask))]
public sealed class StopParallelTaskCommand : ParallelTaskCmdlet
{
    /// <summary>Write the tasks after stopping them.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks()) Stop(task);
    }

    private void Stop(ParallelTask? task)
    {
        if (task is null) return;
        if (!ShouldProcess(task.ToString(), "Stop parallel task")) return;
        try
        {
            NativeArgs.WithUtf8("stopped: Stop-ParallelTask", text => NativeCall.Run(() => task.Native.Stop(false, text)));
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, task);
            return;
        }
        if (PassThru) WriteObject(task);
    }
}
