using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// What a table answers where PowerShell will not let it throw: after
/// Remove-SyncTable, and when a read fails for any other reason (a Redis
/// table's server is down, a stored value cannot be read back).
/// </summary>
/// <remarks>
/// PowerShell's member binder swallows every exception thrown by an
/// IDictionary's indexer, <c>Contains</c>, <c>Count</c> and <c>Keys</c> when it
/// evaluates <c>$t.a</c>, <c>$t['a']</c>, <c>$t.Count</c> or <c>$t.Keys</c>
/// (even under <c>$ErrorActionPreference = 'Stop'</c>; only strict mode lets
/// the indexer's exception through), and string expansion hides what
/// <c>ToString</c> throws behind "cannot convert to string". So a removed
/// table would silently read as empty, and a Redis table whose server is
/// down as a missing key. Instead, when PowerShell code runs on the thread,
/// those forms write the error a cmdlet would write for the same failure
/// (SyncPool.Disposed for a removed table) as a non-terminating error into
/// the caller's error stream, and answer <see cref="Removed"/> or
/// <see cref="Unread"/>, values no table ever holds. Method calls,
/// assignments and enumeration throw as usual; enumeration by PowerShell's
/// serializer, which swallows the exception, also writes the error.
/// </remarks>
public static class UnthrowableReads
{
    /// <summary>The value a removed table answers for a read PowerShell does not let throw.</summary>
    public static RemovedSyncTable Removed { get; } = new();

    /// <summary>The value a failed read answers, where PowerShell does not let it throw.</summary>
    public static UnreadSyncTableValue Unread { get; } = new();

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

    /// <summary>
    /// Whether <paramref name="error"/> from a read is reported here rather
    /// than thrown: when PowerShell code runs on this thread (a runspace is
    /// open on it), so an error can be written, for any failure but the
    /// process-ending kind. A plain .NET caller gets the exception.
    /// </summary>
    public static bool Catches(Exception error) =>
        error is not (OutOfMemoryException or StackOverflowException or System.Threading.ThreadInterruptedException)
        && Runspace.DefaultRunspace is { RunspaceStateInfo.State: RunspaceState.Opened };

    /// <summary>
    /// Whether PowerShell's serializer (InternalSerializer: Export-Clixml,
    /// PSSerializer) is enumerating the table: it swallows what GetEnumerator throws and writes an empty
    /// dictionary. Looked up only on the failure path; a few frames suffice
    /// (the serializer calls GetEnumerator directly).
    /// </summary>
    public static bool SerializerIsCalling()
    {
        var frames = new System.Diagnostics.StackTrace(1, false).GetFrames();
        for (int i = 0; i < frames.Length && i < 8; i++)
        {
            if (frames[i].GetMethod()?.DeclaringType?.FullName == "System.Management.Automation.InternalSerializer") return true;
        }
        return false;
    }

    /// <summary>
    /// Writes the error for a failed read of <paramref name="what"/> from
    /// <paramref name="table"/>; returns the value the read answers instead:
    /// <see cref="Removed"/> for a removed table, <see cref="Unread"/> otherwise.
    /// </summary>
    public static object Report(SyncTable table, string what, Exception error)
    {
        if (error is ObjectDisposedException)
        {
            string label = table.Name is null ? "This SyncTable" : $"SyncTable '{table.Name}'";
            Write($"{label} has been removed (Remove-SyncTable); reading {what} from it gives no data. Create a new table with New-SyncTable.",
                "SyncPool.Disposed", ErrorCategory.ResourceUnavailable, table.Name);
            return Removed;
        }
        var record = SyncPoolErrors.Describe(error, table.Name);
        Write(error.Message, record.FullyQualifiedErrorId, record.CategoryInfo.Category, table.Name);
        return Unread;
    }

    /// <summary>Writes a non-terminating error into the error stream of the PowerShell code on this thread.</summary>
    private static void Write(string message, string errorId, ErrorCategory category, string? target)
    {
        // Under $ErrorActionPreference = 'Stop' the error would turn terminating
        // inside this getter, where the binder swallows it: keep it non-terminating.
        var script = ScriptBlock.Create(
            "param($m, $id, $c, $target) $a = if ($ErrorActionPreference -eq 'Stop') { 'Continue' } else { $ErrorActionPreference }; " +
            "Write-Error -Message $m -ErrorId $id -Category $c -TargetObject $target -ErrorAction $a");
        object?[] arguments = [message, errorId, category, target];
        try
        {
            if (WriteToCurrentErrorPipe is { } invoke && invoke.GetParameters() is { Length: 6 } p && p[1].ParameterType.IsEnum)
            {
                object behavior = Enum.Parse(p[1].ParameterType, "WriteToCurrentErrorPipe");
                invoke.Invoke(script, [true, behavior, null, null, null, arguments]);
            }
            else
            {
                script.Invoke(arguments);
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

/// <summary>The value <c>$t.key</c> and <c>$t['key']</c> answer when the read failed (with the error written).</summary>
public sealed class UnreadSyncTableValue
{
    internal UnreadSyncTableValue() { }

    public override string ToString() => "(SyncTable read failed)";
}
