using System;
using System.Collections;
using System.Collections.Generic;

namespace SyncPool.Pool;

/// <summary>
/// The items one batch task runs for (Start-ParallelTask -BatchSize). The
/// task's script runs once per batch with these items as its pipeline input,
/// so <c>begin {}</c> and <c>end {}</c> run once per batch and <c>process {}</c>
/// (or <c>$_</c>) once per item.
/// </summary>
public sealed class TaskBatch : IReadOnlyList<object?>
{
    private readonly object?[] _items;

    public TaskBatch(IEnumerable<object?> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = [.. items];
    }

    public int Count => _items.Length;
    public object? this[int index] => _items[index];
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public override string ToString() => $"Batch of {Count}";
}

/// <summary>
/// Groups pipeline items into batches of a fixed size as they arrive, so
/// each full batch can be submitted at once (work starts while input is
/// still streaming in).
/// </summary>
public sealed class TaskBatcher
{
    private readonly int _size;
    private List<object?> _pending;

    /// <param name="batchSize">Items per batch, at least 1.</param>
    public TaskBatcher(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds at least one item.");
        _size = batchSize;
        _pending = new List<object?>(Math.Min(batchSize, 1024));
    }

    public int BatchSize => _size;

    /// <summary>Items waiting for their batch to fill.</summary>
    public int Pending => _pending.Count;

    /// <summary>Adds an item; returns the batch it completed, if any.</summary>
    public TaskBatch? Add(object? item)
    {
        _pending.Add(item);
        return _pending.Count >= _size ? Take() : null;
    }

    /// <summary>The partial last batch, if any items are pending.</summary>
    public TaskBatch? Flush() => _pending.Count > 0 ? Take() : null;

    private TaskBatch Take()
    {
        var batch = new TaskBatch(_pending);
        _pending = new List<object?>(Math.Min(_size, 1024));
        return batch;
    }
}
