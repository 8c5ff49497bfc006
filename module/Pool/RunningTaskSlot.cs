using System;

namespace SyncPool.Pool;

/// <summary>
/// Which task a worker is running right now, and how to stop it. Stop
/// requests are made from other threads after the pool's lock is released,
/// so they can arrive late (for a task the worker has already finished; it
/// must not stop the next one) or early (before the worker began the task).
/// The slot answers both: a request acts only on the task it names, and a
/// request that came first is remembered on the task, so <see cref="Enter"/>
/// refuses to start it.
/// </summary>
public sealed class RunningTaskSlot
{
    private readonly object _gate = new();
    private ParallelTask? _task;
    private Action? _stop;

    /// <summary>The task being run, if any.</summary>
    public ParallelTask? Current
    {
        get { lock (_gate) return _task; }
    }

    /// <summary>
    /// Publishes that <paramref name="task"/> starts now and that
    /// <paramref name="stop"/> stops it (it must not block). Returns false,
    /// publishing nothing, if the task was already asked to stop: then do not run it.
    /// </summary>
    public bool Enter(ParallelTask task, Action stop)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(stop);
        lock (_gate)
        {
            if (task.StopRequested) return false;
            _task = task;
            _stop = stop;
            return true;
        }
    }

    /// <summary>The task has returned; later requests for it are ignored.</summary>
    public void Leave()
    {
        lock (_gate)
        {
            _task = null;
            _stop = null;
        }
    }

    /// <summary>Interrupts <paramref name="thread"/> if it is still running <paramref name="task"/>.</summary>
    public void Interrupt(ParallelTask task, System.Threading.Thread thread)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_task, task)) thread.Interrupt();
        }
    }

    /// <summary>
    /// Stops <paramref name="task"/> if it is the one running; returns whether
    /// the stop action ran. The request is recorded on the task either way,
    /// so a task that has not entered yet never starts.
    /// </summary>
    /// <remarks>The stop action runs under the slot's lock, so it never acts on a
    /// task that has already left (whose resources may be disposed).</remarks>
    public bool RequestStop(ParallelTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        task.MarkStopRequested();
        lock (_gate)
        {
            if (!ReferenceEquals(_task, task) || _stop is null) return false;
            _stop();
            return true;
        }
    }
}
