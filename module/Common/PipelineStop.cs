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
    private static readonly PipelineStop Nothing = new(null, null, null, default);

    // PowerShellStandard.Library, which the module compiles against, lacks the
    // Pipeline types, so they are reached by reflection: the internal
    // Runspace.GetCurrentlyRunningPipeline (stable since PowerShell 1) and the
    // pipeline's public StateChanged event and PipelineStateInfo.State. Null
    // when PowerShell is not in the process (the table used from plain .NET)
    // or a PowerShell version lacks one; method waits then follow the token
    // only. Nothing here names a PowerShell type outside PowerShellPipelines,
    // so this class loads without PowerShell.
    private static readonly Func<object?, object?>? RunningPipelineOn = PowerShellPipelines.TryBind();

    private static readonly MethodInfo StateChangedMethod =
        typeof(PipelineStop).GetMethod(nameof(OnStateChanged), BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>The members of the last pipeline type seen (there is one: LocalPipeline), looked up once.</summary>
    private static PipelineMembers? s_members;

    private readonly CancelSignal? _signal;
    private readonly object? _pipeline;
    private readonly PipelineMembers? _members;
    private readonly Delegate? _handler;
    private readonly CancellationTokenRegistration _registration;
    private volatile bool _pipelineStopped;

    private PipelineStop(CancelSignal? signal, object? pipeline, PipelineMembers? members, CancellationToken token)
    {
        _signal = signal;
        if (signal is null) return;
        // The native signal exists before anything can fire it.
        _ = signal.Id;
        if (pipeline is not null && members is not null)
        {
            _handler = Delegate.CreateDelegate(members.StateChanged.EventHandlerType!, this, StateChangedMethod);
            members.StateChanged.AddEventHandler(pipeline, _handler);
            _pipeline = pipeline;
            _members = members;
            // A stop that began between the caller's look and the subscription counts too.
            if (members.Ends(pipeline)) Stopped();
        }
        // Runs at once if the token is already cancelled.
        if (token.CanBeCanceled) _registration = token.Register(signal.Signal);
    }

    /// <summary>
    /// The signal for one wait, following <paramref name="token"/> and this
    /// thread's pipeline; dispose it when the wait is over. A pipeline that is
    /// stopping already is not followed: the method was called by the
    /// cleanup code a stop still runs (finally and clean blocks), whose waits
    /// wait, as Wait-SyncTable's there do.
    /// </summary>
    private static PipelineStop Follow(CancellationToken token)
    {
        var pipeline = RunningPipeline();
        var members = pipeline is null ? null : MembersOf(pipeline.GetType());
        if (members is null || members.Ends(pipeline!)) pipeline = null;
        if (pipeline is null && !token.CanBeCanceled) return Nothing;
        return new PipelineStop(new CancelSignal(), pipeline, members, token);
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
            return wait(stop._signal?.Id ?? 0);
        }
        catch (OperationCanceledException) when (stop._pipelineStopped)
        {
            stop.AwaitPowerShellStopping();
            PowerShellPipelines.ThrowStopped();
            throw;
        }
    }

    /// <summary>
    /// Waits, briefly, until PowerShell has marked the pipeline as stopping.
    /// It raises StateChanged (Stopping) first and sets that mark just after,
    /// on the stopping thread, with no event of its own. A script that went
    /// on before the mark would enter its finally blocks unprotected (the
    /// mark is what lets them run to the end during a stop) and have them cut
    /// short when the mark lands. Microseconds in practice; at most a second.
    /// </summary>
    private void AwaitPowerShellStopping()
    {
        if (_pipeline is null || _members?.IsStopping is not { } isStopping) return;
        var spin = new SpinWait();
        long until = Environment.TickCount64 + 1000;
        while (isStopping.GetValue(_pipeline) is not true && Environment.TickCount64 < until) spin.SpinOnce();
    }

    public void Dispose()
    {
        if (_signal is null) return;
        if (_pipeline is not null) _members!.StateChanged.RemoveEventHandler(_pipeline, _handler);
        _registration.Dispose();
        _signal.Dispose();
    }

    /// <summary>The pipeline's StateChanged (its arguments are a PipelineStateEventArgs).</summary>
    private void OnStateChanged(object? sender, EventArgs e)
    {
        if (PipelineMembers.EndsWith(e.GetType().GetProperty("PipelineStateInfo")?.GetValue(e))) Stopped();
    }

    private void Stopped()
    {
        _pipelineStopped = true;
        _signal?.Signal();
    }

    private static object? RunningPipeline() => RunningPipelineOn?.Invoke(null);

    /// <summary>
    /// PowerShell's stopping mark of the pipeline running on
    /// <paramref name="runspace"/> (a Runspace): null when it runs none, or
    /// the mark cannot be read. A stop sets the mark; PowerShell clears it
    /// while a finally block runs during the stop, and sets it again after.
    /// </summary>
    internal static bool? StoppingMarkOn(object runspace)
    {
        var pipeline = RunningPipelineOn?.Invoke(runspace);
        return pipeline is null ? null : MembersOf(pipeline.GetType())?.IsStopping?.GetValue(pipeline) as bool?;
    }

    private static PipelineMembers? MembersOf(Type type)
    {
        var members = s_members;
        if (members?.Type == type) return members;
        members = PipelineMembers.Of(type);
        s_members = members;
        return members;
    }

    /// <summary>A pipeline type's StateChanged event, PipelineStateInfo property and internal IsStopping mark (null if absent).</summary>
    private sealed record PipelineMembers(Type Type, EventInfo StateChanged, PropertyInfo StateInfo, PropertyInfo? IsStopping)
    {
        public static PipelineMembers? Of(Type type) =>
            type.GetEvent("StateChanged") is { EventHandlerType: not null } stateChanged && type.GetProperty("PipelineStateInfo") is { } stateInfo
                ? new PipelineMembers(type, stateChanged, stateInfo,
                    type.GetProperty("IsStopping", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is { PropertyType: var t } p && t == typeof(bool) ? p : null)
                : null;

        /// <summary>Whether the pipeline is stopping or stopped.</summary>
        public bool Ends(object pipeline) => EndsWith(StateInfo.GetValue(pipeline));

        /// <summary>Whether a PipelineStateInfo says stopping or stopped.</summary>
        public static bool EndsWith(object? stateInfo) =>
            stateInfo?.GetType().GetProperty("State")?.GetValue(stateInfo)?.ToString() is "Stopping" or "Stopped";
    }

    /// <summary>
    /// The code that names PowerShell's types, apart: the JIT needs
    /// System.Management.Automation only when it compiles these methods, which
    /// happens only where PowerShell is loaded.
    /// </summary>
    private static class PowerShellPipelines
    {
        /// <summary>A function giving the pipeline running on a runspace (null: this thread's), or null; null without PowerShell.</summary>
        public static Func<object?, object?>? TryBind()
        {
            try
            {
                return Bind();
            }
            catch (Exception e) when (e is System.IO.FileNotFoundException or System.IO.FileLoadException or TypeLoadException)
            {
                return null;
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static Func<object?, object?>? Bind()
        {
            var method = typeof(Runspace).GetMethod("GetCurrentlyRunningPipeline", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, Type.EmptyTypes);
            if (method is null) return null;
            return given =>
            {
                if ((given as Runspace ?? Runspace.DefaultRunspace) is not { } runspace) return null;
                try
                {
                    return method.Invoke(runspace, null);
                }
                catch (TargetInvocationException)
                {
                    return null;
                }
            };
        }

        /// <summary>Throws what PowerShell takes as its pipeline's stop.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void ThrowStopped() => throw new PipelineStoppedException();
    }
}
