using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>What Receive-ParallelTask and Wait-ParallelTask -Receive do with each task.</summary>
internal sealed class TaskReceiver
{
    private readonly Cmdlet _cmdlet;
    private readonly bool _keep;
    private readonly TaskResultWriter _writer;
    private readonly ResultTable? _table;

    public TaskReceiver(Cmdlet cmdlet, bool keep, bool asHashtable)
    {
        _cmdlet = cmdlet;
        _keep = keep;
        _writer = new TaskResultWriter(cmdlet);
        _table = asHashtable ? new ResultTable(cmdlet) : null;
    }

    /// <summary>
    /// Writes what <paramref name="task"/> produced so far. Without -Keep, a
    /// finished task is then removed (it leaves Get-ParallelTask; the object
    /// keeps its state), so receiving in a loop leaves nothing behind.
    /// </summary>
    public void Receive(ParallelTask task)
    {
        if (_table is not null && task.IsBatch)
        {
            _table.RefuseBatch(task);
            return;
        }
        // One crossing: the state, whether it was still listed, and (draining) its removal once finished.
        var settled = NativeCall.Run(() => task.Native.Settle(!_keep));
        var state = settled.state;
        bool listed = settled.was_listed.Is;
        var items = task.Results.Take(_keep);
        if (_table is null)
        {
            _writer.Write(task, items);
        }
        else
        {
            var output = new List<object?>();
            _writer.Write(task, items, output);
            _table.Add(task, output);
        }
        if (!listed) return;
        string what = task.HasInput && !task.IsBatch ? $" (input '{task.Input}')" : "";
        if (state == TaskState.TimedOut)
        {
            // An error, as ForEach-Object -Parallel writes one per timed-out task: -ErrorVariable,
            // -ErrorAction Stop and try/catch see it. What the task wrote before is kept (above).
            ErrorRecordReplay.WriteAbout(_cmdlet, new ErrorRecord(
                new TimeoutException($"Task {task.Id} '{task.Name}'{what} {task.StatusMessage ?? "timed out"}; what it wrote before that was received."),
                "SyncPool.TaskTimedOut", ErrorCategory.OperationTimeout, task.HasInput ? task.Input : task), task);
        }
        else if (state == TaskState.Stopped)
        {
            _cmdlet.WriteWarning($"Task {task.Id} '{task.Name}'{what} ended Stopped: {task.StatusMessage ?? "stopped"}. Its output may be incomplete.");
        }
    }

    /// <summary>Writes the hashtable, with -AsHashtable.</summary>
    public void Complete()
    {
        if (_table is not null) _cmdlet.WriteObject(_table.Table);
    }
}
