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

    public void Dispose()
    {
        _stopSignal.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Writes a non-terminating error for <paramref name="error"/>.</summary>
    protected void WriteFailure(Exception error, object? target) => WriteError(Describe(error, target));

    /// <summary>Stops the cmdlet with a terminating error for <paramref name="error"/>.</summary>
    protected void ThrowFailure(Exception error, object? target) => ThrowTerminatingError(Describe(error, target));

    /// <summary>Turns an exception into an ErrorRecord users can filter on.</summary>
    internal static ErrorRecord Describe(Exception error, object? target)
    {
        if (error is OperationCanceledException) return new ErrorRecord(new PipelineStoppedException(), "SyncPool.Stopped", ErrorCategory.OperationStopped, target);
        var (id, category) = error switch
        {
            SyncPoolException e => (e.ErrorId, CategoryOf(e)),
            ObjectDisposedException => ("SyncPool.Disposed", ErrorCategory.ResourceUnavailable),
            ArgumentException => ("SyncPool.InvalidArgument", ErrorCategory.InvalidArgument),
            TimeoutException => ("SyncPool.Timeout", ErrorCategory.OperationTimeout),
            System.IO.IOException or UnauthorizedAccessException => ("SyncPool.FileError", ErrorCategory.WriteError),
            _ => ("SyncPool.Unexpected", ErrorCategory.NotSpecified),
        };
        return new ErrorRecord(error, id, category, target);
    }

    private static ErrorCategory CategoryOf(SyncPoolException e)
    {
        var code = e.Code;
        if (code.IsNotNumeric) return ErrorCategory.InvalidType;
        if (code.IsOverflow) return ErrorCategory.InvalidResult;
        if (code.IsNotSerializable || code.IsBadFormat) return ErrorCategory.InvalidData;
        if (code.IsNotLockOwner) return ErrorCategory.PermissionDenied;
        if (code.IsShutDown) return ErrorCategory.ResourceUnavailable;
        if (code.IsUnknownTask) return ErrorCategory.ObjectNotFound;
        if (code.IsNotFinished) return ErrorCategory.InvalidOperation;
        if (code.IsInvalidArgument) return ErrorCategory.InvalidArgument;
        if (code.IsRedisUnreachable || code.IsRedisConnectionLost) return ErrorCategory.ConnectionError;
        if (code.IsRedisAuthenticationFailed) return ErrorCategory.AuthenticationError;
        if (code.IsRedisUnknownDatabase) return ErrorCategory.ObjectNotFound;
        if (code.IsRedisOutcomeUnknown) return ErrorCategory.InvalidResult;
        if (code.IsRedisError) return ErrorCategory.ProtocolError;
        return ErrorCategory.NotSpecified;
    }
}
