using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// A thread-safe table that behaves like a PowerShell hashtable ($t.Key,
/// $t['k'], Count, Keys, Values, GetEnumerator, case-insensitive keys) and
/// adds atomic operations hashtables lack. The data lives in the native core;
/// this class converts values and keeps the .NET conventions.
/// </summary>
/// <remarks>
/// <c>$t.x++</c> is still read-then-write, exactly as on a hashtable: use
/// <see cref="Increment(object)"/> or <see cref="Update"/> when several
/// runspaces change the same key.
/// </remarks>
public sealed class SyncTable : IDictionary, IDisposable
{
    /// <summary>How long one native wait lasts before checking for cancellation (Ctrl+C).</summary>
    internal const int WaitSliceMilliseconds = 100;

    /// <summary>Attempts <see cref="Update"/> makes before giving up under contention.</summary>
    public const int DefaultUpdateAttempts = 1000;

    private readonly TableCore _core;
    private readonly UseGuard _guard;

    public SyncTable() : this(caseSensitive: false) { }

    public SyncTable(bool caseSensitive, string? name = null)
    {
        ObjectRegistry.EnsureInstalled();
        _core = NativeCall.Run(() => TableCore.Create(caseSensitive));
        _guard = new UseGuard(nameof(SyncTable), _core.Dispose);
        CaseSensitive = caseSensitive;
        Name = name;
    }

    /// <summary>Name under which Get-SyncTable finds the table, if any.</summary>
    public string? Name { get; }

    public bool CaseSensitive { get; }

    public bool IsDisposed => _guard.IsClosed;

    // ---- hashtable surface -------------------------------------------------

    /// <summary>
    /// The value under <paramref name="key"/>, or null. On a removed table,
    /// PowerShell code gets <see cref="RemovedTableUse.Removed"/> and a
    /// SyncPool.Disposed error (PowerShell swallows exceptions here); .NET code
    /// gets ObjectDisposedException.
    /// </summary>
    public object? this[object key]
    {
        get
        {
            try
            {
                return TryGetValue(key, out var value) ? value : null;
            }
            catch (ObjectDisposedException) when (RemovedTableUse.CanReport)
            {
                return RemovedTableUse.Report(this, $"key '{key}'");
            }
        }
        set => Set(key, value);
    }

    /// <summary>Entries at this moment. On a removed table see <see cref="this[object]"/>: PowerShell code gets -1 and an error.</summary>
    public int Count
    {
        get
        {
            try
            {
                return CountNow();
            }
            catch (ObjectDisposedException) when (RemovedTableUse.CanReport)
            {
                RemovedTableUse.Report(this, "Count");
                return -1;
            }
        }
    }

    private int CountNow()
    {
        using (_guard.Enter()) return (int)NativeCall.Run(() => _core.Count());
    }

    /// <summary>The keys at this moment (a copy: safe to enumerate while others write).</summary>
    public ICollection Keys
    {
        get
        {
            try
            {
                using (_guard.Enter())
                {
                    using var keys = NativeCall.Run(() => _core.KeyList());
                    var list = new List<object>(keys.Count);
                    for (int i = 0; i < keys.Count; i++) list.Add(EncodedKey.Decode(keys[i]));
                    return list;
                }
            }
            catch (ObjectDisposedException) when (RemovedTableUse.CanReport)
            {
                RemovedTableUse.Report(this, "Keys");
                return Array.Empty<object>();
            }
        }
    }

    /// <summary>The values at this moment (a copy).</summary>
    public ICollection Values
    {
        get
        {
            try
            {
                var values = new List<object?>();
                foreach (var entry in Entries()) values.Add(entry.Value);
                return values;
            }
            catch (ObjectDisposedException) when (RemovedTableUse.CanReport)
            {
                RemovedTableUse.Report(this, "Values");
                return Array.Empty<object>();
            }
        }
    }

    public bool ContainsKey(object key) => Contains(key);

    public bool Contains(object key) => WithKey(key, (core, k) => core.Contains(k).Is);

    /// <summary>
    /// What PowerShell's binder asks before <c>$t.name</c>. On a removed table
    /// it answers "yes" for data keys, so the indexer reports the removal, and
    /// "no" for the table's own properties (<c>$t.IsDisposed</c> keeps working).
    /// </summary>
    bool IDictionary.Contains(object key)
    {
        if (IsDisposed && RemovedTableUse.CanReport)
            return !(PowerShellValues.Unwrap(key) is string name && OwnProperties.Contains(name));
        return Contains(key);
    }

    private static readonly HashSet<string> OwnProperties = new(
        Array.ConvertAll(typeof(SyncTable).GetProperties(), p => p.Name), StringComparer.OrdinalIgnoreCase);

    public bool TryGetValue(object key, out object? value)
    {
        var found = GetValue(key);
        value = found?.Value;
        return found is not null;
    }

    /// <summary>Sets the value (adds the key if absent).</summary>
    public void Set(object key, object? value) => WithKeyValue(key, value, (core, k, v) => core.Put(k, v));

    /// <summary>Adds a new key; throws if it exists (as Hashtable.Add does). Atomic.</summary>
    public void Add(object key, object? value)
    {
        if (!TryAdd(key, value))
            throw new ArgumentException($"Item has already been added. Key in dictionary: '{key}'.", nameof(key));
    }

    /// <summary>Adds the key if absent; true if this call added it.</summary>
    public bool TryAdd(object key, object? value)
    {
        var (_, added) = GetOrAddCore(key, value);
        return added;
    }

    public void Remove(object key) => TryRemove(key, out _);

    /// <summary>Removes the key atomically and hands back the value it had.</summary>
    public bool TryRemove(object key, out object? value)
    {
        var removed = WithKey(key, (core, k) => DecodeEntry(core.Delete(k)));
        value = removed?.Value;
        return removed is not null;
    }

    public void Clear()
    {
        using (_guard.Enter()) NativeCall.Run(() => _core.Clear());
    }

    /// <summary>Enumerates a snapshot: never throws while other runspaces write.</summary>
    public IDictionaryEnumerator GetEnumerator() => new SnapshotEnumerator(Entries());

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool IsFixedSize => false;
    public bool IsReadOnly => false;
    public bool IsSynchronized => true;
    public object SyncRoot => this;

    public void CopyTo(Array array, int index)
    {
        foreach (var entry in Entries()) array.SetValue(entry, index++);
    }

    // ---- what hashtables lack ---------------------------------------------

    /// <summary>Adds 1 atomically (a missing key starts at 0); returns the new value.</summary>
    public object Increment(object key) => Increment(key, 1);

    /// <summary>Adds <paramref name="delta"/> (integer or double) atomically; returns the new value.</summary>
    public object Increment(object key, object delta) =>
        WithKeyValue(key, delta, (core, k, d) =>
        {
            using var result = core.Increment(k, d);
            return ValueCodec.Decode(result);
        })!;

    /// <summary>Replaces the value only if it currently equals <paramref name="expected"/>; true if it did.</summary>
    /// <remarks>Compares strings (ordinally), numbers, booleans, dates, byte arrays and null; live objects never compare equal.</remarks>
    public bool CompareExchange(object key, object? expected, object? value)
    {
        Span<byte> expectedScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedExpected = EncodedValue.From(expected, expectedScratch);
        unsafe
        {
            fixed (byte* ep = encodedExpected.Bytes)
            {
                try
                {
                    return WithKeyValue(key, value, encodedExpected.ToNative(ep),
                        static (core, k, v, e) => core.CompareExchange(k, e, v).Is);
                }
                catch
                {
                    encodedExpected.Abandon();
                    throw;
                }
            }
        }
    }

    /// <summary>Returns the value under <paramref name="key"/>, adding <paramref name="value"/> first if absent.</summary>
    public object? GetOrAdd(object key, object? value) => GetOrAddCore(key, value).Value;

    /// <summary>
    /// Optimistic update: runs <paramref name="update"/> on the current value
    /// (null if absent) outside any lock, and writes its result only if nobody
    /// changed the key meanwhile; otherwise runs it again on the newer value.
    /// </summary>
    public object? Update(object key, Func<object?, object?> update) => Update(key, update, DefaultUpdateAttempts);

    public object? Update(object key, Func<object?, object?> update, int maxAttempts)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (maxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(maxAttempts), "maxAttempts must be at least 1.");
        for (int attempt = 0; attempt < maxAttempts; attempt++)
        {
            var current = GetValue(key);
            object? next = update(current?.Value);
            bool written = WithKeyValue(key, next, current, static (core, k, v, seen) =>
                core.ReplaceIfVersion(k, seen is null, seen?.Version ?? 0, v).Is);
            if (written) return next;
        }
        throw new SyncPoolException(ErrorCode.NotFinished,
            $"Update of key '{key}' gave up after {maxAttempts} attempts: other writers kept changing it. Use Lock for long-running updates.");
    }

    /// <summary>
    /// Runs <paramref name="body"/> while holding the key's critical section
    /// (for invariants across several keys). Released on exceptions, including
    /// a pipeline being stopped. Re-entrant on the same thread.
    /// </summary>
    public void Lock(object key, Action body) => Lock(key, body, Timeout.InfiniteTimeSpan, CancellationToken.None);

    public void Lock(object key, Action body, TimeSpan timeout, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(body);
        ulong owner = LockOwner;
        if (!Acquire(key, owner, timeout, cancel))
            throw new TimeoutException($"Could not lock key '{key}' within {timeout}.");
        try
        {
            body();
        }
        finally
        {
            WithKey(key, (core, k) => { core.UnlockKey(k, owner); return true; });
        }
    }

    /// <summary>Blocks until <paramref name="key"/> exists; false on timeout. Wakes at once when it is written.</summary>
    public bool WaitFor(object key, TimeSpan timeout) => WaitFor(key, timeout, CancellationToken.None);

    public bool WaitFor(object key, int timeoutMilliseconds) => WaitFor(key, TimeSpan.FromMilliseconds(timeoutMilliseconds));

    public bool WaitFor(object key, TimeSpan timeout, CancellationToken cancel) => WaitForEntry(key, null, timeout, cancel) is not null;

    /// <summary>Blocks until the key's version exceeds <paramref name="afterVersion"/> (see <see cref="GetVersion"/>).</summary>
    public bool WaitForChange(object key, long afterVersion, TimeSpan timeout, CancellationToken cancel = default) =>
        WaitForEntry(key, afterVersion, timeout, cancel) is not null;

    /// <summary>The version of the key's last write, or -1 if absent. Versions only grow.</summary>
    public long GetVersion(object key) => GetValue(key) is { } found ? (long)found.Version : -1;

    /// <summary>A plain hashtable copy (same case rule), safe to enumerate and change.</summary>
    public Hashtable Snapshot()
    {
        var copy = new Hashtable(CaseSensitive ? KeyComparer.Ordinal : KeyComparer.IgnoreCase);
        foreach (var entry in Entries()) copy[entry.Key] = entry.Value;
        return copy;
    }

    /// <summary>All entries as type-tagged JSON; live objects are refused by key name.</summary>
    public string ExportJson()
    {
        using (_guard.Enter())
        {
            using var text = NativeCall.Run(() => _core.ExportJson());
            return text.String;
        }
    }

    /// <summary>Loads an export, all or nothing; returns the number of entries written.</summary>
    public int ImportJson(string json, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(json);
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json);
        unsafe
        {
            using (_guard.Enter())
            {
                fixed (byte* p = utf8)
                {
                    var slice = SliceByte.From((IntPtr)p, (ulong)utf8.Length);
                    return (int)NativeCall.Run(() => _core.ImportJson(slice, replace));
                }
            }
        }
    }

    public void Dispose()
    {
        if (_guard.Close()) SyncTableRegistry.Forget(this);
    }

    public override string ToString() => Name is null ? $"SyncTable ({CountNow()} entries)" : $"SyncTable '{Name}' ({CountNow()} entries)";

    // ---- plumbing -----------------------------------------------------------

    /// <summary>An entry copied out of the core.</summary>
    internal sealed record Entry(object Key, object? Value, ulong Version);

    /// <summary>Identifies the caller for key locks: one pipeline runs on one thread.</summary>
    private static ulong LockOwner => (ulong)Environment.CurrentManagedThreadId;

    /// <summary>A value read out of the core with its version.</summary>
    internal sealed record Found(object? Value, ulong Version);

    /// <summary>The common read: value and version, without copying the key back.</summary>
    internal Found? GetValue(object key) => WithKey(key, static (core, k) =>
    {
        using var option = core.GetValue(k);
        if (!option.IsSome) return null;
        var found = option.AsSome();
        return new Found(ValueCodec.Decode(found.data), found.version);
    });

    private List<DictionaryEntry> Entries()
    {
        using (_guard.Enter())
        {
            using var entries = NativeCall.Run(() => _core.Snapshot());
            var list = new List<DictionaryEntry>(entries.Count);
            for (int i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                list.Add(new DictionaryEntry(EncodedKey.Decode(entry.key), ValueCodec.Decode(entry.data)));
            }
            return list;
        }
    }

    private (object? Value, bool Added) GetOrAddCore(object key, object? value) =>
        WithKeyValue(key, value, (core, k, v) =>
        {
            using var result = core.GetOrAdd(k, v);
            var entry = DecodeEntry(result.entry);
            return (entry.Value, result.added.Is);
        });

    private bool Acquire(object key, ulong owner, TimeSpan timeout, CancellationToken cancel) =>
        Deadline.WaitInSlices(timeout, cancel, WaitSliceMilliseconds,
            slice => WithKey(key, (core, k) => core.LockKey(k, owner, slice).Is));

    private Entry? WaitForEntry(object key, long? afterVersion, TimeSpan timeout, CancellationToken cancel)
    {
        Entry? entry = null;
        Deadline.WaitInSlices(timeout, cancel, WaitSliceMilliseconds, slice =>
            (entry = WithKey(key, (core, k) => DecodeEntry(core.WaitFor(k, afterVersion.HasValue, (ulong)Math.Max(afterVersion ?? 0, 0), slice)))) is not null);
        return entry;
    }

    /// <summary>Copies an owned optional entry out and frees it.</summary>
    private static Entry? DecodeEntry(OptionEntryOut option)
    {
        if (!option.IsSome) return null;
        using var entry = option.AsSome();
        return DecodeEntry(entry);
    }

    /// <summary>Copies an entry out without freeing it (the caller owns it).</summary>
    private static Entry DecodeEntry(EntryOut entry) =>
        new(EncodedKey.Decode(entry.key), ValueCodec.Decode(entry.data), entry.version);

    // The two helpers below are the hot path of every keyed call: the key
    // (and a short text value) are encoded into stack buffers, the callbacks
    // are static lambdas taking explicit state, so a get or set allocates
    // nothing on the way in.

    private T WithKey<T>(object key, Func<TableCore, KeyIn, T> call) =>
        WithKey(key, call, static (core, k, c) => c(core, k));

    private unsafe T WithKey<TState, T>(object key, TState state, Func<TableCore, KeyIn, TState, T> call)
    {
        Span<byte> scratch = stackalloc byte[EncodedKey.ScratchBytes];
        var encoded = EncodedKey.From(key, scratch);
        using (_guard.Enter())
        {
            fixed (byte* kp = encoded.Utf8)
            {
                try
                {
                    return call(_core, encoded.ToNative(kp), state);
                }
                catch (EnumException<ErrorCode> failure)
                {
                    throw NativeError.From(failure);
                }
            }
        }
    }

    private T WithKeyValue<T>(object key, object? value, Func<TableCore, KeyIn, ValueIn, T> call) =>
        WithKeyValue(key, value, call, static (core, k, v, c) => c(core, k, v));

    private unsafe T WithKeyValue<TState, T>(object key, object? value, TState state, Func<TableCore, KeyIn, ValueIn, TState, T> call)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedValue = EncodedValue.From(value, valueScratch);
        try
        {
            using (_guard.Enter())
            {
                fixed (byte* kp = encodedKey.Utf8)
                fixed (byte* vp = encodedValue.Bytes)
                {
                    try
                    {
                        return call(_core, encodedKey.ToNative(kp), encodedValue.ToNative(vp), state);
                    }
                    catch (EnumException<ErrorCode> failure)
                    {
                        throw NativeError.From(failure);
                    }
                }
            }
        }
        catch
        {
            encodedValue.Abandon();
            throw;
        }
    }

    private sealed class SnapshotEnumerator : IDictionaryEnumerator
    {
        private readonly List<DictionaryEntry> _entries;
        private int _index = -1;

        public SnapshotEnumerator(List<DictionaryEntry> entries) => _entries = entries;

        public DictionaryEntry Entry => _entries[_index];
        public object Key => Entry.Key;
        public object? Value => Entry.Value;
        public object Current => Entry;
        public bool MoveNext() => ++_index < _entries.Count;
        public void Reset() => _index = -1;
    }
}
