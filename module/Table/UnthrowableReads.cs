using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// What a table answers where PowerShell will not let it throw: after
/// Remove-SyncTable, and when a Redis table's server fails the read.
/// </summary>
/// <remarks>
/// PowerShell's member binder swallows every exception thrown by an
/// IDictionary's indexer, <c>Contains</c>, <c>Count</c> and <c>Keys</c> when it
/// evaluates <c>$t.a</c>, <c>$t['a']</c>, <c>$t.Count</c> or <c>$t.Keys</c>
/// (even under <c>$ErrorActionPreference = 'Stop'</c>; only strict mode lets
/// the indexer's exception through), so a removed table would silently read
/// as empty, and a Redis table whose server is down as a missing key.
/// Instead those forms write a non-terminating error into the caller's error
/// stream (SyncPool.Disposed, or the server failure's own id) and answer
/// <see cref="Removed"/> or <see cref="Unread"/>, values no table ever holds.
/// Method calls, assignments, enumeration and string expansion throw as usual.
/// </remarks>
public static class UnthrowableReads
{
    /// <summary>The value a removed table answers for a read PowerShell does not let throw.</summary>
    public static RemovedSyncTable Removed { get; } = new();

    /// <summary>The value a read answers when the Redis server failed it, where PowerShell does not let it throw.</summary>
    public static UnreadSyncTableValue Unread { get; } = new();

    /// <summary>Whether <paramref name="error"/> is the server failing a read of a Redis table (what <see cref="ReportFailedRead"/> reports).</summary>
    public static bool IsServerFailure(SyncPoolException error) =>
        error.Code.IsRedisUnreachable || error.Code.IsRedisConnectionLost || error.Code.IsRedisOutcomeUnknown
        || error.Code.IsRedisError || error.Code.IsRedisAuthenticationFailed || error.Code.IsRedisUnknownDatabase;

    /// <summary>
    /// ScriptBlock.DoInvokeReturnAsIs (internal, stable since PowerShell 3): the
    /// only way .NET code called from a PowerShell expression can write to the
    /// error stream of the command evaluating that expression, as the -replace
    /// operator and .ForEach() do. Null if a PowerShell version lacks it; the
    /// public ScriptBlock.Invoke is used then (the error reaches $Error and
    /// the host, but not redirections).
    /// </summary>
    private static readonly MethodInfo? WriteToCurrentErrorPipe =
        typeof(ScriptBlock).GetMethod("DoInvokeReturnAsIs", BindingFlags.NonPublic | BindingFlags.Instance);

    /// <summary>True when the caller is PowerShell code (a runspace runs on this thread), so an error can be written.</summary>
    public static bool CanReport => Runspace.DefaultRunspace is { RunspaceStateInfo.State: RunspaceState.Opened };

    /// <summary>Writes the SyncPool.Disposed error for <paramref name="table"/>; returns <see cref="Removed"/>.</summary>
    public static RemovedSyncTable Report(SyncTable table, string what)
    {
        string label = table.Name is null ? "This SyncTable" : $"SyncTable '{table.Name}'";
        Write($"{label} has been removed (Remove-SyncTable); reading {what} from it gives no data. Create a new table with New-SyncTable.",
            "SyncPool.Disposed", "ResourceUnavailable");
        return Removed;
    }

    /// <summary>Writes the server's failure of a read of <paramref name="what"/> (its own id and message); returns <see cref="Unread"/>.</summary>
    public static UnreadSyncTableValue ReportFailedRead(string what, SyncPoolException error)
    {
        Write($"Reading {what} failed: {error.Message}", error.ErrorId, "ConnectionError");
        return Unread;
    }

    /// <summary>Writes a non-terminating error into the error stream of the PowerShell code on this thread.</summary>
    private static void Write(string message, string errorId, string category)
    {
        // Under $ErrorActionPreference = 'Stop' the error would turn terminating
        // inside this getter, where the binder swallows it: keep it non-terminating.
        var script = ScriptBlock.Create(
            "param($m, $id, $c) $a = if ($ErrorActionPreference -eq 'Stop') { 'Continue' } else { $ErrorActionPreference }; " +
            "Write-Error -Message $m -ErrorId $id -Category $c -ErrorAction $a");
        try
        {
            if (WriteToCurrentErrorPipe is { } invoke && invoke.GetParameters() is { Length: 6 } p && p[1].ParameterType.IsEnum)
            {
                object behavior = Enum.Parse(p[1].ParameterType, "WriteToCurrentErrorPipe");
                invoke.Invoke(script, [true, behavior, null, null, null, new object[] { message, errorId, category }]);
            }
            else
            {
                script.Invoke(message, errorId, category);
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is RuntimeException)
        {
            // A preference of Stop/Inquire that still turned it terminating: nothing more can be done here.
        }
        catch (RuntimeException)
        {
        }
    }
}

/// <summary>The value a removed SyncTable answers to <c>$t.key</c> and <c>$t['key']</c> (with an error).</summary>
public sealed class RemovedSyncTable
{
    internal RemovedSyncTable() { }

    public override string ToString() => "(removed SyncTable)";
}

/// <summary>The value a Redis SyncTable answers to <c>$t.key</c> and <c>$t['key']</c> when its server failed the read (with an error).</summary>
public sealed class UnreadSyncTableValue
{
    internal UnreadSyncTableValue() { }

    public override string ToString() => "(SyncTable read failed)";
}
