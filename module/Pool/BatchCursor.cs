using System;
using System.Management.Automation;
using System.Threading;
using SyncPool.Native;
using SyncPool.Table;

namespace SyncPool.Pool;

/// <summary>
/// Where one worker is in its batch: the task whose script runs now. The
/// batch's pipeline (see <see cref="BatchDrivers"/>) asks it for each
/// task in turn (<see cref="MoveNext"/>), which tells the engine that the
/// previous task ended and the next one starts (its timeout counts from
/// there). Stop requests from the engine act on the current task only.
/// </summary>
/// <remarks>
/// Public only because the batch's PowerShell code calls it; it is not meant
/// for scripts. All members run on the worker thread except
/// <see cref="OnStop"/>, which the engine calls from another thread.
/// </remarks>
public sealed class BatchCursor
{
    private readonly ulong _batch;
    private readonly object _gate = new();
    private ParallelTask? _current;
    private ulong _currentId;    // the engine's id of the current task (the object's Id may not be set yet)
    private bool _failed;
    private bool _primed;        // the current task was started from C#; the pipeline's first MoveNext keeps it
    private bool _stopping;      // the running pipeline was asked to stop: start nothing more in it
    private bool _interrupted;   // the thread was interrupted for the current task
    private PowerShell? _pipeline;

    internal BatchCursor(ulong batch)
    {
        _batch = batch;
        Thread = Thread.CurrentThread;
    }

    internal Thread Thread { get; }

    /// <summary>The engine has no more tasks for this batch.</summary>
    internal bool Exhausted { get; private set; }

    /// <summary>The engine gave up on this worker: its runspace must not be reused.</summary>
    internal bool Abandoned { get; private set; }

    internal ParallelTask? Current
    {
        get
        {
            using (Gate()) return _current;
        }
    }

    /// <summary>Ends the current task (if any) and starts the next; false when there is none (or the pipeline is stopping).</summary>
    public bool MoveNext()
    {
        if (_primed)
        {
            _primed = false;
            return true;
        }
        bool stopping;
        using (Gate()) stopping = _stopping;
        if (stopping)
        {
            End();
            return false;
        }
        return Advance();
    }

    /// <summary>Each task's input in turn: moving on ends the previous task and starts the next.</summary>
    public System.Collections.Generic.IEnumerable<object?> Inputs()
    {
        while (MoveNext()) yield return Input;
    }

    /// <summary>The current task's input.</summary>
    public object? Input => Current?.Input;

    /// <summary>The current task's positional arguments (maybe its item, then -ArgumentList).</summary>
    public object?[] Arguments => Current is { } task ? [.. task.Script.ArgumentsFor(task)] : Array.Empty<object?>();

    /// <summary>The current task's script ended with a terminating error.</summary>
    public void Fail(object error)
    {
        if (Current is not { } task) return;
        task.Results.AddRecord(TaskStream.Error, TaskErrorPositions.Clean(error is PSObject { BaseObject: ErrorRecord record } ? record : error));
        _failed = true;
    }

    // ---- for the batch runner ----------------------------------------------------------------

    /// <summary>
    /// The task the batch starts next, not started yet, so its pipeline can
    /// be prepared before its timeout counts; null when the engine has none
    /// claimed for the batch (then <see cref="Prime"/> asks for one).
    /// </summary>
    internal ParallelTask? Peek()
    {
        BatchItem item;
        try
        {
            item = Interop.syncpool_batch_peek(_batch).AsOk();
        }
        catch (EnumException<ErrorCode> e)
        {
            throw NativeError.From(e);
        }
        if (item.task == 0) return null;
        return ObjectRegistry.Get(item.host_id) as ParallelTask
               ?? throw new InvalidOperationException($"SyncPool internal error: task {item.task} has no task object.");
    }

    /// <summary>Starts the first (next) task from C#, to learn which script the batch runs.</summary>
    internal bool Prime()
    {
        if (!Advance()) return false;
        _primed = true;
        return true;
    }

    internal void MarkFailed() => _failed = true;

    /// <summary>Reports the current task's end to the engine (with <paramref name="message"/> if it failed).</summary>
    internal void End(string? message = null)
    {
        var (id, failed) = Release();
        _primed = false;
        if (id != 0) ReportEnd(id, failed, failed ? message : null);
    }

    /// <summary>Tells the engine that task <paramref name="id"/> of this batch ended.</summary>
    private void ReportEnd(ulong id, bool failed, string? message)
    {
        try
        {
            NativeArgs.WithUtf8(message, text => Interop.syncpool_batch_end(_batch, id, failed, text).AsOk());
        }
        catch (EnumException<ErrorCode> e)
        {
            throw NativeError.From(e);
        }
    }

    /// <summary>Lets go of the current task; returns its engine id (0 if none) and whether it failed.</summary>
    private (ulong Id, bool Failed) Release()
    {
        ulong id;
        bool failed, interrupted;
        using (Gate())
        {
            id = _current is null ? 0 : _currentId;
            _current = null;
            _currentId = 0;
            failed = _failed;
            interrupted = _interrupted;
            _failed = _interrupted = false;
        }
        if (interrupted) AbsorbInterrupt();
        return (id, failed);
    }

    /// <summary>The pipeline that runs the batch now (stopped by <see cref="OnStop"/>).</summary>
    internal void Running(PowerShell? pipeline)
    {
        using (Gate())
        {
            _pipeline = pipeline;
            _stopping = false;
        }
    }

    /// <summary>The engine stops <paramref name="task"/> at <paramref name="level"/> (0 ask, 1 interrupt, 2 abandoned).</summary>
    internal void OnStop(ulong task, byte level)
    {
        lock (_gate)
        {
            if (level == 2) Abandoned = true;
            if (_current is null || _currentId != task) return;
            switch (level)
            {
                case 0:
                    if (_stopping || _pipeline is null) return;
                    _stopping = true;
                    // Never a synchronous Stop(): it can deadlock from another pipeline's thread.
                    _pipeline.BeginStop(null, null);
                    break;
                case 1:
                    // Ends a Thread.Sleep, WaitOne, Monitor.Wait or Join the script is stuck in,
                    // unless the script runs a finally block, which a stop lets finish (the
                    // engine's last step, giving up on the worker, still comes at its time).
                    if (_pipeline is not null && FinallyBlocks.RunDuringStop(_pipeline)) return;
                    _interrupted = true;
                    Thread.Interrupt();
                    break;
            }
        }
    }

    /// <summary>Ends the current task (if any) and starts the next, in one call to the engine.</summary>
    private bool Advance()
    {
        var (ended, failed) = Release();
        BatchItem item;
        try
        {
            item = Interop.syncpool_batch_next(_batch, ended, failed, NativeArgs.NoText).AsOk();
        }
        catch (EnumException<ErrorCode> e)
        {
            throw NativeError.From(e);
        }
        if (item.task == 0)
        {
            Exhausted = true;
            return false;
        }
        if (ObjectRegistry.Get(item.host_id) is not ParallelTask task)
        {
            // The engine started the task: report its end (failed) before
            // failing, or the engine would wait for that report for ever and
            // refuse this batch's next task.
            var message = $"SyncPool internal error: task {item.task} has no task object.";
            ReportEnd(item.task, true, message);
            throw new InvalidOperationException(message);
        }
        using (Gate())
        {
            _current = task;
            _currentId = item.task;
            _failed = false;
        }
        task.Results.Started();
        return true;
    }

    /// <summary>
    /// Takes <see cref="_gate"/> on the worker thread. A plain lock would throw
    /// ThreadInterruptedException when it has to wait while an interrupt meant
    /// for the current task's script is pending (OnStop level 1 holds the
    /// gate as it sends one), and that exception, thrown from the cursor's own
    /// bookkeeping, would leave the engine's current task unreported. The
    /// interrupt is for a script, never for the cursor: it is taken here and
    /// the wait goes on.
    /// </summary>
    private GateHold Gate()
    {
        while (true)
        {
            try
            {
                Monitor.Enter(_gate);
                return new GateHold(_gate);
            }
            catch (ThreadInterruptedException)
            {
                // The script it was meant for is no longer running: nothing to interrupt.
            }
        }
    }

    private readonly struct GateHold(object gate) : IDisposable
    {
        public void Dispose() => Monitor.Exit(gate);
    }

    /// <summary>An interrupt the script did not block on would hit the next wait on this thread: take it now.</summary>
    private static void AbsorbInterrupt()
    {
        try
        {
            Thread.Sleep(0);
        }
        catch (ThreadInterruptedException)
        {
        }
    }
}
