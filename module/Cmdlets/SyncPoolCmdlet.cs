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
    /// PowerShell disposes every command of a pipeline when it ends; one that
    /// was stopped (Ctrl+C) gets <see cref="OnStopped"/> first. A failure is
    /// PowerShell's to report (it records what Dispose throws as the
    /// pipeline's failure).
    /// </summary>
    public void Dispose()
    {
        try
        {
            if (_stopSignal.IsSignalled) OnStopped();
        }
        finally
        {
            _stopSignal.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>
    /// What a stop still has to do once the pipeline has ended, whichever
    /// block it came in (a stop while input was still coming ends the
    /// command before its end block).
    /// </summary>
    protected virtual void OnStopped() { }

    /// <summary>Writes a non-terminating error for <paramref name="error"/>.</summary>
    protected void WriteFailure(Exception error, object? target) => WriteError(Describe(error, target));

    /// <summary>Stops the cmdlet with a terminating error for <paramref name="error"/>.</summary>
    protected void ThrowFailure(Exception error, object? target) => ThrowTerminatingError(Describe(error, target));

    /// <summary>Turns an exception into an ErrorRecord users can filter on (see <see cref="SyncPoolErrors"/>).</summary>
    internal static ErrorRecord Describe(Exception error, object? target) => SyncPoolErrors.Describe(error, target);
}
