using System;
using SyncPool.Native;

namespace SyncPool;

/// <summary>
/// A failure reported by the native core. <see cref="Code"/> says what kind
/// (cmdlets map it to an error category); the message is the core's own.
/// </summary>
public class SyncPoolException : InvalidOperationException
{
    public SyncPoolException(ErrorCode code, string message) : base(message) => Code = code;

    public ErrorCode Code { get; }

    /// <summary>A stable id for FullyQualifiedErrorId, e.g. "SyncPool.NotNumeric".</summary>
    public string ErrorId => "SyncPool." + Code;
}

/// <summary>Turns a failed native call into the exception .NET code expects.</summary>
internal static class NativeError
{
    /// <summary>Builds the exception for a failed call; must run on the calling thread.</summary>
    public static Exception From(EnumException<ErrorCode> failure) => From(failure.Value);

    /// <summary>Builds the exception for a call that returned <paramref name="code"/>; must run on the calling thread.</summary>
    public static Exception From(ErrorCode code)
    {
        string message;
        using (var text = Interop.syncpool_last_error())
        {
            message = text.String;
        }
        if (string.IsNullOrEmpty(message)) message = $"SyncPool's native core reported {code}.";
        if (code.IsInvalidArgument) return new ArgumentException(message);
        if (code.IsDisposed) return new ObjectDisposedException(null, message);
        if (code.IsCancelled) return new OperationCanceledException(message);
        return new SyncPoolException(code, message);
    }
}

/// <summary>Runs a generated binding call and rethrows its failure as a .NET exception.</summary>
internal static class NativeCall
{
    public static T Run<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (EnumException<ErrorCode> failure)
        {
            throw NativeError.From(failure);
        }
    }

    public static void Run(Action call) => Run(() => { call(); return 0; });
}
