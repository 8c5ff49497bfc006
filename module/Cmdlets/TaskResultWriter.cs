using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Re-emits what tasks produced through a cmdlet's own streams, in the order
/// the task wrote it: output with WriteObject, errors with WriteError (the
/// original ErrorRecord, see <see cref="ErrorRecordReplay"/>), and so on. The caller's -ErrorAction,
/// -WarningVariable, redirections and preferences then apply as if the
/// script had run in the caller.
/// </summary>
internal sealed class TaskResultWriter(Cmdlet cmdlet)
{
    private readonly Cmdlet _cmdlet = cmdlet;

    /// <summary>
    /// Emits the items of <paramref name="task"/>; output goes to
    /// <paramref name="collectOutput"/> instead of the pipeline when given
    /// (-AsHashtable, whose errors then point at the task's input).
    /// </summary>
    public void Write(ParallelTask task, IReadOnlyList<TaskItem> items, List<object?>? collectOutput = null)
    {
        object? errorTarget = collectOutput is not null && task.HasInput ? task.Input : null;
        foreach (var item in items)
        {
            if (item.IsOutput)
            {
                if (collectOutput is not null) collectOutput.Add(item.Output);
                else _cmdlet.WriteObject(item.Output);
                continue;
            }
            var record = item.Record!;
            switch (record.Stream, record.Data)
            {
                case (TaskStream.Error, ErrorRecord error):
                    ErrorRecordReplay.Write(_cmdlet, error, task, errorTarget);
                    break;
                case (TaskStream.Error, Exception fault):
                    ErrorRecordReplay.WriteAbout(_cmdlet, new ErrorRecord(fault, "SyncPool.TaskFault", ErrorCategory.NotSpecified, errorTarget ?? task), task);
                    break;
                case (TaskStream.Warning, WarningRecord warning):
                    _cmdlet.WriteWarning(warning.Message);
                    break;
                case (TaskStream.Verbose, VerboseRecord verbose):
                    _cmdlet.WriteVerbose(verbose.Message);
                    break;
                case (TaskStream.Debug, DebugRecord debug):
                    _cmdlet.WriteDebug(debug.Message);
                    break;
                case (TaskStream.Information, InformationRecord information):
                    _cmdlet.WriteInformation(information);
                    break;
                case (TaskStream.Progress, ProgressRecord progress):
                    _cmdlet.WriteProgress(progress);
                    break;
                case (TaskStream.Warning, var other):
                    _cmdlet.WriteWarning(other.ToString());
                    break;
                case (TaskStream.Verbose, var other):
                    _cmdlet.WriteVerbose(other.ToString() ?? "");
                    break;
                case (TaskStream.Debug, var other):
                    _cmdlet.WriteDebug(other.ToString() ?? "");
                    break;
                default:
                    _cmdlet.WriteInformation(record.Data, new[] { "SyncPool", record.Stream.ToString() });
                    break;
            }
        }
    }
}
