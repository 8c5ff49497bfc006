using System;

namespace SyncPool.Pool;

/// <summary>
/// What one pool worker does with a task. The pool owns the worker thread
/// (in Rust) and calls <see cref="Run"/> on it; a worker keeps its own state
/// (a runspace, for PowerShell) across the tasks it runs.
/// </summary>
public interface ITaskWorker : IDisposable
{
    /// <summary>Runs the task on the calling (worker) thread; true if it succeeded.</summary>
    bool Run(ParallelTask task);

    /// <summary>
    /// Asks the worker to stop <paramref name="task"/>. Called from another
    /// thread; must not block. The request can arrive late (the worker may
    /// have finished that task and started another) or early (before
    /// <see cref="Run"/> began it): a worker must act only if it is running
    /// that very task, and should check <see cref="ParallelTask.StopRequested"/>
    /// when it starts one. <see cref="RunningTaskSlot"/> does both.
    /// </summary>
    void RequestStop(ParallelTask task);
}
