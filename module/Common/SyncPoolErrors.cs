using System;
using System.Management.Automation;
using SyncPool.Native;

namespace SyncPool;

/// <summary>
/// The one mapping from a SyncPool failure to what PowerShell users filter
/// on: a stable FullyQualifiedErrorId and a fitting category. Cmdlets write
/// it; reads PowerShell will not let throw write it too (see
/// <see cref="Table.UnthrowableReads"/>), so one failure has one id wherever
/// it surfaces.
/// </summary>
internal static class SyncPoolErrors
{
    /// <summary>Turns an exception into an ErrorRecord users can filter on.</summary>
    public static ErrorRecord Describe(Exception error, object? target)
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
