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
/// Where a task's results go instead of being kept on the task: a job's
/// streams (Start-ParallelTask -AsJob). Called in the order the task wrote
/// them, on the writing thread, under the results' lock.
/// </summary>
internal interface ITaskResultSink
{
    void Write(TaskItem item);

    /// <summary>The task's script started (the worker took it from the queue).</summary>
    void Started();
}

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
    private ITaskResultSink? _sink;

    public void AddOutput(object? value)
    {
        lock (_gate)
        {
            _outputs++;
            Append(new TaskItem(true, value, null));
        }
    }

    public void AddRecord(TaskStream stream, object data)
    {
        ArgumentNullException.ThrowIfNull(data);
        lock (_gate)
        {
            if (stream == TaskStream.Error) (_errors ??= new List<object>(1)).Add(data);
            Append(new TaskItem(false, null, new TaskRecord(stream, data)));
        }
    }

    private void Append(TaskItem item)
    {
        if (_sink is { } sink) sink.Write(item);
        else (_items ??= new List<TaskItem>(4)).Add(item);
    }

    /// <summary>
    /// From now on everything goes to <paramref name="sink"/>; what was
    /// written before is handed to it first, in order.
    /// </summary>
    public void Attach(ITaskResultSink sink)
    {
        lock (_gate)
        {
            if (_items is not null)
            {
                foreach (var item in _items) sink.Write(item);
                _items = null;
            }
            _sink = sink;
        }
    }

    /// <summary>The task's script is starting (told to the sink, if any).</summary>
    public void Started()
    {
        ITaskResultSink? sink;
        lock (_gate) sink = _sink;
        sink?.Started();
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
