using System;
using System.Management.Automation;
using System.Threading;
using SyncPool.Native;

namespace SyncPool.Cmdlets;

/// <summary>
/// What every SyncPool cmdlet shares: exceptions become ErrorRecords with a
/// stable FullyQualifiedErrorId and a fitting category, and Ctrl+C
/// (StopProcessing) cancels any wait the cmdlet is blocked in.
/// </summary>
public abstract class SyncPoolCmdlet : PSCmdlet, IDisposable
{
    private readonly CancelSignal _stopSignal = new();

    /// <summary>
    /// The native cancellation signal StopProcessing (Ctrl+C) fires, for
    /// waits that block in the core; the native side is made on first use.
    /// A wait given it ends at once on Ctrl+C, woken by the signal, not by
    /// polling.
    /// </summary>
    internal CancelSignal StopSignal => _stopSignal;

    /// <summary>The number of <see cref="StopSignal"/>, for native waits.</summary>
    protected ulong NativeStopSignal => _stopSignal.Id;

    protected override void StopProcessing() => _stopSignal.Signal();

    /// <summary>
    /// PowerShell disposes every command of a pipeline on the pipeline's
    /// thread once the pipeline has ended, however it ended: after
    /// <see cref="OnPipelineEnded"/>.
    /// </summary>
    public void Dispose()
    {
        try
        {
            OnPipelineEnded();
        }
        finally
        {
            _stopSignal.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>
    /// What is left to do once the pipeline has ended, also when it ended
    /// before this command's end block (Ctrl+C or a terminating error while
    /// input was still coming). Nothing can be written any more, and
    /// PowerShell drops what is thrown here when a stop ended the pipeline:
    /// failures go to the engine's fault queue, which the next parallel
    /// cmdlet writes as SyncPool.InternalError.
    /// </summary>
    protected virtual void OnPipelineEnded() { }

    /// <summary>Writes a non-terminating error for <paramref name="error"/>.</summary>
    protected void WriteFailure(Exception error, object? target) => WriteError(Describe(error, target));

    /// <summary>Stops the cmdlet with a terminating error for <paramref name="error"/>.</summary>
    protected void ThrowFailure(Exception error, object? target) => ThrowTerminatingError(Describe(error, target));

    /// <summary>Turns an exception into an ErrorRecord users can filter on (see <see cref="SyncPoolErrors"/>).</summary>
    internal static ErrorRecord Describe(Exception error, object? target) => SyncPoolErrors.Describe(error, target);
}
