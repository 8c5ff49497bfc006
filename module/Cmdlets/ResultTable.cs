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
/// Builds the hashtable of -AsHashtable: each task's input is the key and
/// its output the value (nothing: $null; one object: that object; several:
/// an array), the "results keyed by input" the runspace templates build by
/// hand with a synchronized hashtable. Keys compare like @{} keys
/// (case-insensitive strings).
/// </summary>
internal sealed class ResultTable(Cmdlet cmdlet)
{
    private readonly Cmdlet _cmdlet = cmdlet;

    public Hashtable Table { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A batch task's output cannot be keyed by input: refused with an error
    /// before anything is taken from the task, so nothing is lost.
    /// </summary>
    public void RefuseBatch(ParallelTask task) =>
        _cmdlet.WriteError(new ErrorRecord(
            new InvalidOperationException($"Task {task.Id} ran a batch of {((TaskBatch)task.Input!).Count} items (-BatchSize), so its output cannot be " +
                                          "keyed by input. Its output is kept: receive it without -AsHashtable, or start the tasks without -BatchSize."),
            "SyncPool.BatchNotKeyed", ErrorCategory.InvalidOperation, task));

    public void Add(ParallelTask task, List<object?> output)
    {
        object key = KeyOf(task);
        if (Table.ContainsKey(key))
            _cmdlet.WriteWarning($"More than one task has the input '{key}'; -AsHashtable keeps the output of the last one (task {task.Id}).");
        Table[key] = output.Count switch
        {
            0 => null,
            1 => output[0],
            _ => output.ToArray(),
        };
    }

    /// <summary>The input (unwrapped unless it is a custom object), or the task's name for a task without input.</summary>
    private static object KeyOf(ParallelTask task)
    {
        if (!task.HasInput || task.Input is null) return task.Name;
        return task.Input is PSObject pso && pso.BaseObject is not PSCustomObject ? pso.BaseObject : task.Input;
    }
}
