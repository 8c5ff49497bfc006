using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace SyncPool.Pool;

/// <summary>
/// Whether a pipeline that was asked to stop is running one of its finally
/// blocks, which PowerShell lets run to their end during a stop.
/// </summary>
/// <remarks>
/// <para>
/// A stop marks the pipeline as stopping; PowerShell clears that mark while a
/// finally block runs and sets it again afterwards, so the block's commands
/// are not stopped. A Thread.Interrupt knows nothing of that: sent while such
/// a block runs, it ends the block in its first wait (Start-Sleep, a .NET
/// Sleep or WaitOne) and the script's cleanup never finishes.
/// </para>
/// <para>
/// The mark lives on the runspace's running pipeline (LocalPipeline, an
/// internal type, with its internal IsStopping), which is reached by
/// reflection, as in <see cref="PipelineStop"/>. If a PowerShell version
/// lacks either, this says "no", and a stop interrupts as before.
/// </para>
/// </remarks>
internal static class FinallyBlocks
{
    private static readonly MethodInfo? RunningPipeline =
        typeof(Runspace).GetMethod("GetCurrentlyRunningPipeline", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, Type.EmptyTypes);

    /// <summary>
    /// True when <paramref name="pipeline"/> is stopping and PowerShell has
    /// suspended that stop to run a finally block. Called from the engine's
    /// timer thread: the mark is read without the pipeline's lock, as a
    /// snapshot (a block that ends just after the look is interrupted later).
    /// </summary>
    public static bool RunDuringStop(PowerShell pipeline)
    {
        if (RunningPipeline is null || pipeline.InvocationStateInfo.State != PSInvocationState.Stopping) return false;
        if (pipeline.Runspace is not { } runspace) return false;
        object? running;
        try
        {
            running = RunningPipeline.Invoke(runspace, null);
        }
        catch (TargetInvocationException)
        {
            return false;
        }
        return running?.GetType().GetProperty("IsStopping", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(running) is false;
    }
}
