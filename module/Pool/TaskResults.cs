using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace SyncPool.Pool;

/// <summary>Which stream a <see cref="TaskRecord"/> came from.</summary>
public enum TaskStream { Error, Warning, Verbose, Debug, Information, Progress }

/// <summary>A non-output record a task wrote, kept where it wrote it.</summary>
public sealed record TaskRecord(TaskStream Stream, object Data);

/// <summary>One thing a task produced: an output object, or a stream record.</summary>
public readonly record struct TaskItem(bool IsOutput, object? Output, TaskRecord? Record);

/// <summary>
/// What one task wrote, output and records interleaved in the order it wrote
/// them. The worker appends (on its thread, while the task runs); receivers
/// read and drain (on a cmdlet thread, usually after the task finished). One
/// small lock: appends and drains never contend in practice, and an empty
/// task allocates nothing.
/// </summary>
internal sealed class TaskResults
{
    private readonly object _gate = new();
    private List<TaskItem>? _items;
    private int _outputs;        // output objects written (ever)
    private List<object>? _errors; // every error record written, kept after receiving (Errors)

    public void AddOutput(object? value)
    {
        lock (_gate)
        {
            (_items ??= new List<TaskItem>(4)).Add(new TaskItem(true, value, null));
            _outputs++;
        }
    }

    public void AddRecord(TaskStream stream, object data)
    {
        ArgumentNullException.ThrowIfNull(data);
        lock (_gate)
        {
            (_items ??= new List<TaskItem>(4)).Add(new TaskItem(false, null, new TaskRecord(stream, data)));
            if (stream == TaskStream.Error) (_errors ??= new List<object>(1)).Add(data);
        }
    }

    /// <summary>Output objects not yet received.</summary>
    public int PendingOutput
    {
        get
        {
            lock (_gate)
            {
                if (_items is null) return 0;
                int n = 0;
                foreach (var item in _items) if (item.IsOutput) n++;
                return n;
            }
        }
    }

    public int OutputCount { get { lock (_gate) return _outputs; } }

    public int ErrorCount { get { lock (_gate) return _errors?.Count ?? 0; } }

    /// <summary>Every error record the task wrote, in order (receiving does not drop them).</summary>
    public List<object> Errors()
    {
        lock (_gate) return _errors is null ? new List<object>() : new List<object>(_errors);
    }

    /// <summary>
    /// What was written and not yet received. Draining (<paramref name="keep"/>
    /// false) hands it out once and lets go of it: the next call returns only
    /// what came after.
    /// </summary>
    public List<TaskItem> Take(bool keep)
    {
        lock (_gate)
        {
            if (_items is null || _items.Count == 0) return new List<TaskItem>();
            var taken = new List<TaskItem>(_items);
            if (!keep) _items.Clear();
            return taken;
        }
    }
}
