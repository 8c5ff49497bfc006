using System;
using System.Collections.Concurrent;
using System.Collections.Generic;

namespace SyncPool.Pool;

/// <summary>
/// One unit of work submitted to a <see cref="TaskPool"/>. Its state and
/// timestamps are read from the native pool (which decides them); its
/// results are collected here as the worker produces them.
/// </summary>
public sealed class ParallelTask
{
    private readonly TaskPool _pool;
    private TaskSnapshot? _final;

    internal ParallelTask(TaskPool pool, ulong id, string? name, object? input, object? work)
    {
        _pool = pool;
        Id = id;
        Name = name ?? $"Task{id}";
        Input = input;
        Work = work;
    }

    public ulong Id { get; }
    public string Name { get; }

    /// <summary>The pipeline item this task was started for.</summary>
    public object? Input { get; }

    /// <summary>What the worker runs (for PowerShell: the prepared script); opaque to the pool.</summary>
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
            return (s.Ended ?? DateTime.UtcNow) - start;
        }
    }

    /// <summary>The pool's explanation for Failed/Stopped/TimedOut (panic text, "timed out after 5 s").</summary>
    public string? StatusMessage => Snapshot().Message;

    public bool IsFinished => State is not (ParallelTaskState.Queued or ParallelTaskState.Running);

    /// <summary>Objects the task wrote to its output, in order.</summary>
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

    internal void Freeze(TaskSnapshot final) => _final = final;

    /// <summary>True once removed from its pool (state frozen at its last value).</summary>
    public bool IsRemoved => _final is not null;

    internal TaskSnapshot Snapshot() => _final ?? _pool.Describe(this);

    public override string ToString() => $"{Name} ({State})";
}

/// <summary>Which stream a <see cref="TaskRecord"/> came from.</summary>
public enum TaskStream { Error, Warning, Verbose, Debug, Information, Progress }

/// <summary>A non-output record, kept in the order the task wrote it.</summary>
public sealed record TaskRecord(TaskStream Stream, object Data);

/// <summary>A task's state at one moment, as the native pool reported it.</summary>
internal sealed record TaskSnapshot(ParallelTaskState State, long Worker, DateTime? Queued, DateTime? Started, DateTime? Ended, string? Message);
