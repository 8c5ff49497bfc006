using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Threading;
using SyncPool.Native;

namespace SyncPool;

/// <summary>
/// The cancellation of a table method that blocks ($t.WaitFor,
/// $t.WaitForChange, $t.Lock): one native signal, fired by the caller's
/// token or by a stop of the PowerShell pipeline running on this thread
/// (Ctrl+C, PowerShell.Stop, Stop-Job, Stop-ParallelTask).
/// </summary>
/// <remarks>
/// A cmdlet hears of a stop through StopProcessing; a .NET method called from
/// a script hears nothing, so a wait in one would hold the pipeline (and its
/// thread) until the key was written. The pipeline raises StateChanged when
/// it starts stopping, on the stopping thread: that fires the signal, and the
/// core ends the wait, as it does for Wait-SyncTable. The wait and its end
/// stay the core's; this only carries PowerShell's event to it.
/// </remarks>
internal sealed class PipelineStop : IDisposable
{
    private static readonly PipelineStop Nothing = new(null, null, default);

    // PowerShellStandard.Library, which the module compiles against, lacks the
    // Pipeline types, so they are reached by reflection, once: the internal
    // Runspace.GetCurrentlyRunningPipeline (stable since PowerShell 1) and the
    // pipeline's public StateChanged event and PipelineStateInfo.State. Null
    // if a PowerShell version lacks one; method waits then follow the token
    // only.
    private static readonly MethodInfo? RunningPipelineOf =
        typeof(Runspace).GetMethod("GetCurrentlyRunningPipeline", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, Type.EmptyTypes);

    private static readonly MethodInfo StateChangedMethod =
        typeof(PipelineStop).GetMethod(nameof(OnStateChanged), BindingFlags.Instance | BindingFlags.NonPublic)!;

    private readonly CancelSignal? _signal;
    private readonly object? _pipeline;
    private readonly EventInfo? _stateChanged;
    private readonly Delegate? _handler;
    private readonly CancellationTokenRegistration _registration;

    private PipelineStop(CancelSignal? signal, object? pipeline, CancellationToken token)
    {
        _signal = signal;
        if (signal is null) return;
        if (pipeline is not null && pipeline.GetType().GetEvent("StateChanged") is { EventHandlerType: { } handlerType } stateChanged)
        {
            _handler = Delegate.CreateDelegate(handlerType, this, StateChangedMethod);
            stateChanged.AddEventHandler(pipeline, _handler);
            _pipeline = pipeline;
            _stateChanged = stateChanged;
            // A stop that began before the subscription counts too.
            if (Ends(pipeline.GetType().GetProperty("PipelineStateInfo")?.GetValue(pipeline))) Stopped();
        }
        // Runs at once if the token is already cancelled.
        if (token.CanBeCanceled) _registration = token.Register(signal.Signal);
    }

    /// <summary>The signal for one wait, following <paramref name="token"/> and this thread's pipeline; dispose it when the wait is over.</summary>
    private static PipelineStop Follow(CancellationToken token)
    {
        var pipeline = RunningPipeline();
        if (pipeline is null && !token.CanBeCanceled) return Nothing;
        return new PipelineStop(new CancelSignal(), pipeline, token);
    }

    /// <summary>
    /// Runs <paramref name="wait"/>, given the number of a signal that follows
    /// <paramref name="token"/> and this thread's pipeline. A wait the
    /// pipeline's stop ended throws PipelineStoppedException, which PowerShell
    /// takes as the stop itself: the script ends there, as it does when a
    /// cmdlet is stopped. (An OperationCanceledException would be an error of
    /// the method, and the script's next statement could still run before
    /// PowerShell noticed the stop.)
    /// </summary>
    public static T Run<T>(CancellationToken token, Func<ulong, T> wait)
    {
        using var stop = Follow(token);
        try
        {
            return wait(stop.Id);
        }
        catch (OperationCanceledException) when (stop._pipelineStopped)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>The number to pass to a native wait (0 when nothing can cancel it).</summary>
    private ulong Id => _signal?.Id ?? 0;

    private volatile bool _pipelineStopped;

    public void Dispose()
    {
        if (_signal is null) return;
        if (_pipeline is not null) _stateChanged!.RemoveEventHandler(_pipeline, _handler);
        _registration.Dispose();
        _signal.Dispose();
    }

    /// <summary>The pipeline's StateChanged (its arguments are a PipelineStateEventArgs).</summary>
    private void OnStateChanged(object? sender, EventArgs e)
    {
        if (Ends(e.GetType().GetProperty("PipelineStateInfo")?.GetValue(e))) Stopped();
    }

    private void Stopped()
    {
        _pipelineStopped = true;
        _signal?.Signal();
    }

    /// <summary>Whether a PipelineStateInfo says the pipeline is stopping or stopped.</summary>
    private static bool Ends(object? stateInfo) =>
        stateInfo?.GetType().GetProperty("State")?.GetValue(stateInfo)?.ToString() is "Stopping" or "Stopped";

    private static object? RunningPipeline()
    {
        if (RunningPipelineOf is null || Runspace.DefaultRunspace is not { } runspace) return null;
        try
        {
            return RunningPipelineOf.Invoke(runspace, null);
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }
}
