using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace SyncPool.Pool;

/// <summary>
/// One unit of work submitted to a <see cref="TaskPool"/>. Its state and
/// timestamps are read from the native pool (which decides them); its
/// results are collected here as the worker produces them.
/// </summary>
public sealed class ParallelTask
{
    private static long s_lastId;

    private readonly TaskPool _pool;
    private volatile TaskSnapshot? _final;
    private volatile bool _removed;
    private volatile bool _stopRequested;
    private long _outputWritten;  // outputs ever added (stamps TaskRecord.OutputIndex)
    private long _outputTaken;    // outputs handed out by a draining receive
    private readonly object _receiveGate = new();

    internal ParallelTask(TaskPool pool, ulong nativeId, string? name, object? input, bool hasInput, object? work)
    {
        _pool = pool;
        Id = Interlocked.Increment(ref s_lastId);
        NativeId = nativeId;
        Name = string.IsNullOrEmpty(name) ? $"Task{Id}" : name;
        Input = input;
        HasInput = hasInput;
        Work = work;
    }

    /// <summary>Unique in the process (ids of different pools never collide).</summary>
    public long Id { get; }

    /// <summary>The id the native pool knows the task by (unique within its pool only).</summary>
    internal ulong NativeId { get; }

    public string Name { get; }

    /// <summary>
    /// The pipeline item this task was started for; for a batch task, the
    /// <see cref="TaskBatch"/> of its items; null when it was started without input.
    /// </summary>
    public object? Input { get; }

    /// <summary>False when the task was started without any input (the script ran once on its own).</summary>
    public bool HasInput { get; }

    /// <summary>True when the task runs a batch of items (Start-ParallelTask -BatchSize).</summary>
    public bool IsBatch => Input is TaskBatch;

    /// <summary>What the worker runs (for PowerShell: the prepared <see cref="TaskScript"/>); opaque to the pool.</summary>
    internal object? Work { get; }

    public TaskPool Pool => _pool;

    public ParallelTaskState State => Snapshot().State;
    public long WorkerId => Snapshot().Worker;
    public DateTime? QueuedTime => Snapshot().Queued;
    public DateTime? StartTime => Snapshot().Started;
    public DateTime? EndTime => Snapshot().Ended;

    /// <summary>Running time (so far, while running).</summary>
    public TimeSpan? Duration
    {
        get
        {
            var s = Snapshot();
            if (s.Started is not { } start) return null;
            return (s.Ended ?? DateTime.Now) - start;
        }
    }

    /// <summary>The pool's explanation for Failed/Stopped/TimedOut (panic text, "timed out after 5 s").</summary>
    public string? StatusMessage => Snapshot().Message;

    public bool IsFinished => State is not (ParallelTaskState.Queued or ParallelTaskState.Running);

    /// <summary>The code the script passed to <c>exit</c>, if it ended that way.</summary>
    public int? ExitCode { get; internal set; }

    /// <summary>True once a stop (Stop-ParallelTask, timeout, pool shutdown) was requested for this task.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>Objects the task wrote to its output, in order (a draining receive removes them).</summary>
    public ConcurrentQueue<object?> Output { get; } = new();

    /// <summary>Everything else it wrote (errors, warnings, verbose, debug, information, progress), in order.</summary>
    public ConcurrentQueue<TaskRecord> Records { get; } = new();

    /// <summary>Error records and exceptions only (a view over <see cref="Records"/>).</summary>
    public IReadOnlyList<object> Errors
    {
        get
        {
            var errors = new List<object>();
            foreach (var record in Records)
                if (record.Stream == TaskStream.Error) errors.Add(record.Data);
            return errors;
        }
    }

    /// <summary>A fault the worker could not turn into a stream record (kept, never swallowed).</summary>
    public Exception? Fault { get; internal set; }

    /// <summary>Adds an output object. Called by the worker, on its thread, in the order the task wrote.</summary>
    public void AddOutput(object? item)
    {
        Output.Enqueue(item);
        Interlocked.Increment(ref _outputWritten);
    }

    /// <summary>
    /// Adds a non-output record, stamped with the number of outputs written
    /// before it, so a receiver can replay output and records interleaved
    /// exactly as the task wrote them.
    /// </summary>
    public void AddRecord(TaskStream stream, object data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Records.Enqueue(new TaskRecord(stream, data) { OutputIndex = Interlocked.Read(ref _outputWritten) });
    }

    /// <summary>
    /// What the task produced so far, output and records interleaved in the
    /// order it wrote them. Draining (<paramref name="keep"/> false) removes
    /// what it returns, so the next call returns only what came after; with
    /// <paramref name="keep"/> everything not yet drained is returned and kept.
    /// </summary>
    public IReadOnlyList<TaskItem> TakeResults(bool keep)
    {
        lock (_receiveGate)
        {
            return keep ? PeekResults() : DrainResults();
        }
    }

    private List<TaskItem> DrainResults()
    {
        var items = new List<TaskItem>();
        while (true)
        {
            // A record goes out once every output written before it has.
            if (Records.TryPeek(out var record) && record.OutputIndex <= _outputTaken)
            {
                Records.TryDequeue(out _);
                items.Add(TaskItem.ForRecord(record));
                continue;
            }
            if (Output.TryDequeue(out var output))
            {
                _outputTaken++;
                items.Add(TaskItem.ForOutput(output));
                continue;
            }
            // Records written after outputs a concurrent writer has not enqueued
            // yet cannot exist (the worker enqueues the output first); anything
            // left is therefore a record whose outputs were already taken.
            if (Records.TryDequeue(out record))
            {
                items.Add(TaskItem.ForRecord(record));
                continue;
            }
            return items;
        }
    }

    private List<TaskItem> PeekResults()
    {
        var outputs = Output.ToArray();
        var records = Records.ToArray();
        var items = new List<TaskItem>(outputs.Length + records.Length);
        long position = _outputTaken;
        int o = 0, r = 0;
        while (o < outputs.Length || r < records.Length)
        {
            if (r < records.Length && (records[r].OutputIndex <= position || o == outputs.Length))
            {
                items.Add(TaskItem.ForRecord(records[r++]));
            }
            else
            {
                items.Add(TaskItem.ForOutput(outputs[o++]));
                position++;
            }
        }
        return items;
    }

    internal void MarkStopRequested() => _stopRequested = true;

    private int _endNoticed;

    /// <summary>True the first time it is called (a receiver reports a stopped or timed-out task once).</summary>
    internal bool TryMarkEndNoticed() => Interlocked.Exchange(ref _endNoticed, 1) == 0;

    /// <summary>Fixes the state at its final value (the pool is going away, or the task is removed).</summary>
    internal void Freeze(TaskSnapshot final) => _final ??= final;

    internal void MarkRemoved() => _removed = true;

    /// <summary>True once its state no longer comes from the native pool.</summary>
    internal bool IsFrozen => _final is not null;

    /// <summary>True once removed from its pool (state frozen at its last value).</summary>
    public bool IsRemoved => _removed;

    internal TaskSnapshot Snapshot() => _final ?? _pool.Describe(this);

    public override string ToString() => $"{Name} ({State})";
}

/// <summary>Which stream a <see cref="TaskRecord"/> came from.</summary>
public enum TaskStream { Error, Warning, Verbose, Debug, Information, Progress }

/// <summary>A non-output record, kept in the order the task wrote it.</summary>
public sealed record TaskRecord(TaskStream Stream, object Data)
{
    /// <summary>How many output objects the task had written before this record.</summary>
    public long OutputIndex { get; init; }
}

/// <summary>One thing a task produced: an output object or a stream record.</summary>
public readonly record struct TaskItem(bool IsOutput, object? Output, TaskRecord? Record)
{
    public static TaskItem ForOutput(object? value) => new(true, value, null);
    public static TaskItem ForRecord(TaskRecord record) => new(false, null, record);
}

/// <summary>A task's state at one moment, as the native pool reported it.</summary>
internal sealed record TaskSnapshot(ParallelTaskState State, long Worker, DateTime? Queued, DateTime? Started, DateTime? Ended, string? Message);
