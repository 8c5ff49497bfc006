using System;

namespace SyncPool.Table;

/// <summary>
/// The value <c>IDictionary.Contains</c> just read, kept for the indexer
/// call that comes right after it, so that PowerShell's <c>$t.key</c> costs
/// one trip into the core instead of two.
/// </summary>
/// <remarks>
/// For <c>$t.key</c> on any IDictionary, PowerShell's member binder calls
/// <c>Contains(key)</c> and, when that is true, the indexer with the very same
/// key object. Contains therefore reads the whole value (it costs the same as
/// checking), and the indexer takes it from here instead of reading again.
/// The pair is then one read, linearized when Contains ran, as a read
/// through the indexer alone would be.
///
/// The kept value is per thread and belongs to one (table, key object) pair;
/// the next call on that thread into any SyncTable uses it or drops it, so it
/// never answers a later, unrelated read. (Only code that calls
/// <c>IDictionary.Contains</c> itself and the indexer much later, with no
/// table call in between, would see the value as of its Contains call.)
/// </remarks>
internal sealed class ContainsPeek
{
    [ThreadStatic] private static ContainsPeek? t_current;

    private SyncTable? _table;
    private object? _key;
    private object? _value;

    /// <summary>Keeps what Contains read for <paramref name="key"/> of <paramref name="table"/>.</summary>
    public static void Keep(SyncTable table, object key, object? value)
    {
        var peek = t_current ??= new ContainsPeek();
        peek._table = table;
        peek._key = key;
        peek._value = value;
    }

    /// <summary>The kept value, if it is for this very table and key object; drops it either way.</summary>
    public static bool TryTake(SyncTable table, object key, out object? value)
    {
        var peek = t_current;
        if (peek?._table is null)
        {
            value = null;
            return false;
        }
        bool mine = ReferenceEquals(peek._table, table) && ReferenceEquals(peek._key, key);
        value = mine ? peek._value : null;
        peek.Clear();
        return mine;
    }

    /// <summary>Drops a kept value: called by every other table call on this thread.</summary>
    public static void Drop()
    {
        var peek = t_current;
        if (peek?._table is not null) peek.Clear();
    }

    private void Clear()
    {
        _table = null;
        _key = null;
        _value = null;
    }
}
