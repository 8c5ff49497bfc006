using System;
using System.Collections.Generic;
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
/// <remarks>
/// The tasks are collected and stopped together once the input has ended
/// (see <see cref="TaskStops"/>), so no queued task of the input starts in a
/// slot that stopping a running one frees.
/// </remarks>
[Cmdlet(VerbsLifecycle.Stop, "ParallelTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Task")]
[OutputType(typeof(ParallelTask))]
public sealed class StopParallelTaskCommand : ParallelTaskCmdlet
{
    private const string Message = "stopped: Stop-ParallelTask";

    private readonly List<ParallelTask> _tasks = new();
    private readonly HashSet<ParallelTask> _seen = new(ReferenceEqualityComparer.Instance);

    /// <summary>Write the tasks after stopping them.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var task in SelectedTasks())
        {
            if (task is null || !_seen.Add(task)) continue;
            if (ShouldProcess(task.ToString(), "Stop parallel task")) _tasks.Add(task);
        }
    }

    protected override void EndProcessing()
    {
        if (_tasks.Count == 0) return;
        var failed = TaskStops.Together(_tasks, Message) ? null : StopEach();
        if (!PassThru) return;
        foreach (var task in _tasks)
        {
            if (failed?.Contains(task) != true) WriteObject(task);
        }
    }

    /// <summary>Stops each task alone; returns those that failed (their errors written).</summary>
    private HashSet<ParallelTask> StopEach()
    {
        var failed = new HashSet<ParallelTask>(ReferenceEqualityComparer.Instance);
        foreach (var task in _tasks)
        {
            try
            {
                task.Stop(Message);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteFailure(e, task);
                failed.Add(task);
            }
        }
        return failed;
    }
}
