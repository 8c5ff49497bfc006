using System;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace SyncPool.Pool;

/// <summary>
/// Where a task's error points. Write-Error (and <c>$PSCmdlet.WriteError</c>)
/// mark their record with the invocation of the script they were called
/// from, and a task's script is called by a batch driver
/// (<see cref="BatchDrivers"/>), so such a record would show the driver's own
/// line (<c>$__sp.Inputs() | &amp; $__spBody</c>) as the error's position. It
/// is given no position instead, as Start-ThreadJob and ForEach-Object
/// -Parallel show such errors. Errors that point into the user's script (a
/// cmdlet's, a <c>throw</c>) keep their line.
/// </summary>
internal static class TaskErrorPositions
{
    private static readonly ScriptPosition NoLine = new(string.Empty, 0, 0, string.Empty);
    private static readonly IScriptExtent Nowhere = new ScriptExtent(NoLine, NoLine);

    /// <summary>Text only a driver's call of a task's script holds (its parameter).</summary>
    private static readonly string DriverCall = "$" + BatchDrivers.BodyParameter;

    /// <summary>
    /// <paramref name="record"/>, pointing at no line if it pointed at a
    /// driver's. The record's InvocationInfo is its own copy (PowerShell
    /// copies it when it marks the record), and PowerShell keeps the
    /// position when it marks it again (Wait-ParallelTask writing it).
    /// </summary>
    public static object Clean(object record)
    {
        if (record is ErrorRecord { InvocationInfo: { } info }
            && string.IsNullOrEmpty(info.ScriptName)
            && info.Line?.Contains(DriverCall, StringComparison.Ordinal) == true)
        {
            info.DisplayScriptPosition = Nowhere;
        }
        return record;
    }
}
