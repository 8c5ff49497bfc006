using System;
using System.Management.Automation;
using System.Reflection;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Writes a task's ErrorRecord through a receiving cmdlet so that it stays
/// the task's error: the same FullyQualifiedErrorId, category, TargetObject
/// and InvocationInfo (<c>PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand</c>,
/// Get-Item), as Receive-Job and ForEach-Object -Parallel keep them. The task
/// is added to the record as a <c>ParallelTask</c> note property.
/// </summary>
/// <remarks>
/// <see cref="Cmdlet.WriteError"/> stamps the writing cmdlet's InvocationInfo
/// on the record, and FullyQualifiedErrorId is derived from it, so a plain
/// WriteError would turn every task error into one of Wait-ParallelTask.
/// PowerShell's own job and remoting code avoids that with the record's
/// internal PreserveInvocationInfoOnce flag; it is not public, hence
/// reflection. Without it (a PowerShell that lacks the flag) the record is
/// written as WriteError writes it: nothing is lost but that stamp.
/// </remarks>
internal static class ErrorRecordReplay
{
    private const BindingFlags Internal = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly PropertyInfo? PreserveInvocationInfoOnce =
        typeof(ErrorRecord).GetProperty("PreserveInvocationInfoOnce", Internal);

    private static readonly MethodInfo? SetTargetObject =
        typeof(ErrorRecord).GetMethod("SetTargetObject", Internal, [typeof(object)]);

    /// <summary>The note property that says which task wrote a re-emitted record.</summary>
    public const string TaskProperty = "ParallelTask";

    /// <summary>
    /// Writes <paramref name="record"/> of <paramref name="task"/>; with
    /// <paramref name="target"/>, a copy whose TargetObject is that (the
    /// task's input, for -AsHashtable) is written instead.
    /// </summary>
    public static void Write(Cmdlet cmdlet, ErrorRecord record, ParallelTask task, object? target = null)
    {
        if (target is not null && !ReferenceEquals(record.TargetObject, target)) record = WithTarget(record, target);
        Tag(record, task);
        Preserve(record);
        cmdlet.WriteError(record);
    }

    /// <summary>
    /// Writes the error a scriptblock given to a SyncPool cmdlet threw
    /// (Update-SyncTable's), as the script's own error: its id, category and
    /// position stay; a record that points at nothing points at
    /// <paramref name="target"/> (the key) instead.
    /// </summary>
    public static void WriteFromScript(Cmdlet cmdlet, ErrorRecord record, object? target)
    {
        if (target is not null && record.TargetObject is null) record = WithTarget(record, target);
        Preserve(record);
        cmdlet.WriteError(record);
    }

    /// <summary>Writes an error SyncPool makes about <paramref name="task"/> (stamped by the writing cmdlet, as its own errors are).</summary>
    public static void WriteAbout(Cmdlet cmdlet, ErrorRecord record, ParallelTask task)
    {
        Tag(record, task);
        cmdlet.WriteError(record);
    }

    private static void Tag(ErrorRecord record, ParallelTask task)
    {
        var wrapped = PSObject.AsPSObject(record);
        if (wrapped.Properties[TaskProperty] is null) wrapped.Properties.Add(new PSNoteProperty(TaskProperty, task));
    }

    private static void Preserve(ErrorRecord record)
    {
        try
        {
            PreserveInvocationInfoOnce?.SetValue(record, true);
        }
        catch (Exception e) when (e is TargetInvocationException or ArgumentException or MethodAccessException)
        {
            // Written with the receiving cmdlet's stamp instead.
        }
    }

    /// <summary>A copy of the record (the task keeps its original) that points at <paramref name="target"/>.</summary>
    private static ErrorRecord WithTarget(ErrorRecord record, object target)
    {
        var copy = new ErrorRecord(record, record.Exception);
        try
        {
            if (SetTargetObject is null) return record;
            SetTargetObject.Invoke(copy, [target]);
            return copy;
        }
        catch (Exception e) when (e is TargetInvocationException or ArgumentException or MethodAccessException)
        {
            return record;
        }
    }
}
