using System;
using System.Collections.Generic;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// The tasks a waiting cmdlet (Wait-ParallelTask, Receive-ParallelTask
/// -Wait) collects from its input until its end block waits for them. If
/// its pipeline ends before the wait began (Ctrl+C, or a terminating error
/// while the tasks were still coming), nobody will wait for them: they are
/// stopped, as a stop during the wait would have stopped them.
/// </summary>
internal sealed class PendingWait(ParallelTaskCmdlet cmdlet)
{
    private readonly List<ParallelTask> _tasks = new();
    private bool _began;

    public void Add(ParallelTask task) => _tasks.Add(task);

    /// <summary>Waits for the collected tasks (<see cref="TaskWaitLoop.Run"/>); from here a stop is the wait's to handle.</summary>
    public void Run(TaskWaitLoop.Options options)
    {
        _began = true;
        TaskWaitLoop.Run(cmdlet, _tasks, options);
    }

    /// <summary>
    /// For the cmdlet's OnPipelineEnded: stops the collected tasks if the
    /// wait never began. Removed ones are skipped; a failure goes to the
    /// engine's fault queue, since nothing can be written any more.
    /// </summary>
    public void PipelineEnded()
    {
        if (_began) return;
        try
        {
            TaskWaitLoop.StopUnfinished(cmdlet, _tasks);
        }
        catch (Exception e) // PowerShell would drop it: keep it for the next cmdlet to write
        {
            TaskEngine.ReportFault($"Stopping the tasks of a {cmdlet.MyInvocation.MyCommand.Name} whose pipeline ended before it waited failed", e);
        }
    }
}
