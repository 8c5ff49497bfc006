using System.Management.Automation;

namespace SyncPool.Pool;

/// <summary>
/// Whether a pipeline that was asked to stop is running one of its finally
/// blocks, which PowerShell lets run to their end during a stop.
/// </summary>
/// <remarks>
/// A stop marks the pipeline as stopping; PowerShell clears that mark while a
/// finally block runs and sets it again afterwards, so the block's commands
/// are not stopped. A Thread.Interrupt knows nothing of that: sent while such
/// a block runs, it ends the block in its first wait (Start-Sleep, a .NET
/// Sleep or WaitOne) and the script's cleanup never finishes. The mark is
/// read as <see cref="PipelineStop"/> reads it (PowerShell internals, by
/// reflection); if it cannot be read, this says "no", and a stop interrupts
/// as before.
/// </remarks>
internal static class FinallyBlocks
{
    /// <summary>
    /// True when <paramref name="pipeline"/> is stopping and PowerShell has
    /// suspended that stop to run a finally block. Called from the engine's
    /// timer thread: the mark is read without the pipeline's lock, as a
    /// snapshot (a block that ends just after the look is interrupted later).
    /// </summary>
    public static bool RunDuringStop(PowerShell pipeline) =>
        pipeline.InvocationStateInfo.State == PSInvocationState.Stopping
        && pipeline.Runspace is { } runspace
        && PipelineStop.StoppingMarkOn(runspace) == false;
}
