using System;
using System.Collections.Generic;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// One task of Start-ParallelTask: what it runs for (its input) and what it
/// wrote. Its state and timestamps are the engine's, read from the native
/// record this object holds; nothing about its life is kept here.
/// </summary>
public sealed class ParallelTask
{
    private TaskRef? _native;
    private readonly string? _name;

    internal ParallelTask(TaskPool pool, TaskScript script, string? name, object? input, bool hasInput)
    {
        Pool = pool;
        Script = script;
        _name = name;
        Input = input;
        HasInput = hasInput;
        RegistryId = Table.ObjectRegistry.Register(this);
    }

    private long _id;

    /// <summary>Unique in the process.</summary>
    public long Id => _id != 0 ? _id : _id = (long)NativeCall.Run(() => Native.TaskId());

    public string Name => _name ?? $"Task{Id}";

    /// <summary>
    /// The pipeline item this task was started for; for a batch task, the
    /// <see cref="TaskBatch"/> of its items; null when it was started without input.
    /// </summary>
    public object? Input { get; }

    /// <summary>False when the task was started without any input (the script ran once on its own).</summary>
    public bool HasInput { get; }

    /// <summary>True when the task runs a batch of items (Start-ParallelTask -BatchSize).</summary>
    public bool IsBatch => Input is TaskBatch;

    public TaskPool Pool { get; }

    public TaskState State => NativeCall.Run(() => Native.State());

    public bool IsFinished => State.IsFinished;

    public DateTime? QueuedTime => Info().Queued;
    public DateTime? StartTime => Info().Started;
    public DateTime? EndTime => Info().Ended;

    /// <summary>How long its script ran (so far, while running).</summary>
    public TimeSpan? Duration
    {
        get
        {
            var info = Info();
            if (info.Started is not { } start) return null;
            return (info.Ended ?? DateTime.Now) - start;
        }
    }

    /// <summary>The engine's explanation for Failed/Stopped/TimedOut ("timed out after 5 s").</summary>
    public string? StatusMessage => Info().Message;

    /// <summary>The code the script passed to <c>exit</c>, if it ended that way.</summary>
    public int? ExitCode { get; internal set; }

    /// <summary>Every error record the task wrote, in order.</summary>
    public IReadOnlyList<object> Errors => Results.Errors();

    /// <summary>Output objects written and not received yet.</summary>
    public int PendingOutput => Results.PendingOutput;

    /// <summary>Output objects written so far (received or not).</summary>
    public int OutputCount => Results.OutputCount;

    /// <summary>True once the task is no longer listed (removed, received, or its pool removed).</summary>
    public bool IsRemoved => !NativeCall.Run(() => Native.IsListed()).Is;

    public override string ToString() => $"{Name} ({State})";

    // ---- for the engine adapter ------------------------------------------------------------

    internal TaskScript Script { get; }

    internal TaskResults Results { get; } = new();

    /// <summary>This object's id in the object registry (the engine keeps it alive while it lists the task).</summary>
    internal ulong RegistryId { get; }

    internal TaskRef Native => _native ?? throw new InvalidOperationException($"Task '{Name}' was never submitted.");

    /// <summary>Ends the task Stopped with <paramref name="message"/> (a running script is asked to stop, then interrupted).</summary>
    internal void Stop(string message) => NativeArgs.WithUtf8(message, text => NativeCall.Run(() => Native.Stop(false, text)));

    /// <summary>Takes the task out of the engine's lists (it must have finished); its object keeps its state and results.</summary>
    internal void Unlist() => NativeCall.Run(() => Native.Settle(true));

    /// <summary>Binds this object to the engine's record once it is queued.</summary>
    internal void Attach(TaskRef native)
    {
        _native = native;
    }

    private (DateTime? Queued, DateTime? Started, DateTime? Ended, string? Message) Info()
    {
        var info = NativeCall.Run(() => Native.Info());
        using var message = info.message;
        string text = message.String;
        return (NativeArgs.Time(info.queued_us), NativeArgs.Time(info.started_us), NativeArgs.Time(info.ended_us), text.Length == 0 ? null : text);
    }
}
