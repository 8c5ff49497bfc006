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

    /// <summary>Asks the running task to stop. Called from another thread; must not block.</summary>
    void RequestStop();
}
