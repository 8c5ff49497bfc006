using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
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
/// <para>
/// <c>$t.x++</c> is still read-then-write, exactly as on a hashtable: use
/// <see cref="Increment(object)"/> or <see cref="Update"/> when several
/// runspaces change the same key.
/// </para>
/// <para>
/// Every keyed call is one trip into the core: the key (and a short text
/// value) is encoded into a stack buffer, the result comes back as a flat
/// struct with text copied into another stack buffer, so a call allocates
/// nothing but the .NET value it returns. <see cref="Dispose"/> closes the
/// table in the core, which refuses every later call; the native object
/// itself is freed by the finalizer, once no call can still be using it, so
/// no call needs a reference count around it.
/// </para>
/// </remarks>
[SkipLocalsInit]
public sealed partial class SyncTable : IDictionary, IDictionary<object, object?>, IDictionary<string, object?>, IDisposable
{
    /// <summary>Attempts <see cref="Update"/> makes before giving up under contention.</summary>
    public const int DefaultUpdateAttempts = 1000;

    private static readonly object One = 1;

    private readonly TableCore _core;

    /// <summary>The native table, read once: every call passes it straight to the core.</summary>
    private readonly IntPtr _native;

    public SyncTable() : this(caseSensitive: false) { }

    public SyncTable(bool caseSensitive, string? name = null)
    {
        ObjectRegistry.EnsureInstalled();
        _core = NativeCall.Run(() => TableCore.Create(caseSensitive));
        _native = _core.Context;
        CaseSensitive = NativeCall.Run(() => _core.IsCaseSensitive()).Is;
        Name = name;
    }

    /// <summary>
    /// Opens (creating if new) the table <paramref name="name"/> on the Redis
    /// server at <paramref name="address"/>: every process that opens the
    /// same name there sees the same table. The core connects, checks the
    /// credentials and decides everything else; this object behaves exactly
    /// like an in-process table, except that values must be able to leave
    /// the process (see <see cref="RemoteForms"/>).
    /// </summary>
    /// <param name="user">With <paramref name="password"/>, replaces the credentials in the address when not null.</param>
    internal SyncTable(string address, string name, bool caseSensitive, string? user, string? password, TimeSpan? lockExpiry)
    {
        ObjectRegistry.EnsureInstalled();
        _core = RedisConnect.Open(address, name, caseSensitive, user, password, lockExpiry);
        _native = _core.Context;
        CaseSensitive = NativeCall.Run(() => _core.IsCaseSensitive()).Is;
        Name = name;
        _redis = true;
        using (var location = NativeCall.Run(() => _core.Location())) RedisAddress = location.String;
    }

    /// <summary>
    /// Frees the native table. Runs only when nothing can call the table any
    /// more: every call keeps the table alive until the core has returned.
    /// (No native table when the constructor failed before creating it.)
    /// </summary>
    ~SyncTable() => _core?.Dispose();

    /// <summary>Name under which Get-SyncTable finds the table, if any.</summary>
    public string? Name { get; }

    /// <summary>True for a table on a Redis server: values are then copies of data, never live objects.</summary>
    private readonly bool _redis;

    /// <summary>The Redis server the table lives on, without user or password (null: this process).</summary>
    public string? RedisAddress { get; }

    /// <summary>
    /// Whether keys that differ only in case are different keys: the core's
    /// rule, fixed when the table was made and read from it once (a getter
    /// calling the core would answer a silent $null after Remove-SyncTable:
    /// PowerShell swallows what a dictionary's property getter throws).
    /// </summary>
    public bool CaseSensitive { get; }

    /// <summary>Whether the table was removed (the core decides; it refuses every other call then).</summary>
    public bool IsDisposed
    {
        get
        {
            var closed = Interop.table_core_is_closed(_native);
            GC.KeepAlive(this);
            return closed.AsOk().Is;
        }
    }

    // ---- hashtable surface -------------------------------------------------

    /// <summary>
    /// The value under <paramref name="key"/>, or null. When the read fails (a
    /// removed table, a Redis server that is down) and PowerShell code runs on
    /// the thread, the error is written and <see cref="UnthrowableReads.Removed"/>
    /// or <see cref="UnthrowableReads.Unread"/> answered (PowerShell swallows
    /// exceptions here); a plain .NET caller gets the exception.
    /// </summary>
    public object? this[object key]
    {
        get
        {
            try
            {
                return Read(key, out var value, out _) ? value : null;
            }
            catch (Exception e) when (UnthrowableReads.Catches(e))
            {
                return UnthrowableReads.Report(this, $"key '{key}'", e);
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
            catch (Exception e) when (UnthrowableReads.Catches(e))
            {
                UnthrowableReads.Report(this, "Count", e);
                return -1;
            }
        }
    }

    private int CountNow()
    {
        var count = Interop.table_core_count(_native);
        GC.KeepAlive(this);
        if (!count.IsOk) throw NativeError.From(count.AsErr());
        return checked((int)count.AsOk());
    }

    /// <summary>The keys at this moment (a copy: safe to enumerate while others write).</summary>
    public ICollection Keys
    {
        get
        {
            try
            {
                using var keys = NativeCall.Run(() => _core.KeyList());
                GC.KeepAlive(this);
                var list = new List<object>(keys.Count);
                for (int i = 0; i < keys.Count; i++) list.Add(EncodedKey.Decode(keys[i]));
                return list;
            }
            catch (Exception e) when (UnthrowableReads.Catches(e))
            {
                UnthrowableReads.Report(this, "Keys", e);
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
            catch (Exception e) when (UnthrowableReads.Catches(e))
            {
                UnthrowableReads.Report(this, "Values", e);
                return Array.Empty<object>();
            }
        }
    }

    public bool ContainsKey(object key) => Contains(key);

    public unsafe bool Contains(object key)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        var encoded = EncodedKey.From(key, keyScratch);
        ResultBoolErrorCode result;
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            result = Interop.table_core_contains(_native, (IntPtr)(&nativeKey));
        }
        GC.KeepAlive(this);
        if (!result.IsOk) throw NativeError.From(result.AsErr());
        return result.AsOk().Is;
    }

    /// <summary>
    /// <see cref="Contains"/> for code holding an IDictionary. On a removed
    /// table PowerShell code gets "yes" for data keys, so the indexer it calls
    /// next reports the removal, and "no" for the table's own properties
    /// (<c>$t.IsDisposed</c> keeps working).
    /// </summary>
    bool IDictionary.Contains(object key)
    {
        try
        {
            return Contains(key);
        }
        catch (Exception e) when (UnthrowableReads.Catches(e))
        {
            return !(PowerShellValues.Unwrap(key) is string name && OwnProperties.Contains(name));
        }
    }

    private static readonly HashSet<string> OwnProperties = new(
        Array.ConvertAll(typeof(SyncTable).GetProperties(), p => p.Name), StringComparer.OrdinalIgnoreCase);

    public bool TryGetValue(object key, out object? value) => Read(key, out value, out _);

    /// <summary>Sets the value (adds the key if absent).</summary>
    public unsafe void Set(object key, object? value)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedValue = Encode(key, value, valueScratch);
        ResultUlongErrorCode result = default;
        fixed (byte* kp = encodedKey.Utf8)
        fixed (byte* vp = encodedValue.Bytes)
        {
            var nativeKey = encodedKey.ToNative(kp);
            var nativeValue = encodedValue.ToNative(vp);
            // In process: no GC transition, unless the core refuses (answer 0; see DirectCalls).
            if (!_redis) result = DirectCalls.PutPlain(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeValue));
            if (_redis || (result.IsOk && result.AsOk() == 0))
                result = Interop.table_core_put(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeValue));
        }
        GC.KeepAlive(this);
        if (!result.IsOk)
        {
            encodedValue.Abandon();
            throw NativeError.From(result.AsErr());
        }
    }

    /// <summary>Adds a new key; throws if it exists (as Hashtable.Add does). Atomic.</summary>
    public void Add(object key, object? value)
    {
        if (!TryAdd(key, value))
            throw new ArgumentException($"Item has already been added. Key in dictionary: '{key}'.", nameof(key));
    }

    /// <summary>Adds the key if absent; true if this call added it.</summary>
    public bool TryAdd(object key, object? value) => GetOrAddCore(key, value, out _);

    public void Remove(object key) => TryRemove(key, out _);

    /// <summary>Removes the key atomically and hands back the value it had.</summary>
    public unsafe bool TryRemove(object key, out object? value)
    {
        return KeyedRead<KeyedCalls.Delete>(key, out value, out _);
    }

    public void Clear()
    {
        var result = Interop.table_core_clear(_native);
        GC.KeepAlive(this);
        if (!result.IsOk) throw NativeError.From(result.AsErr());
    }

    /// <summary>
    /// Enumerates a snapshot: never throws while other runspaces write. On a
    /// removed table it throws; when PowerShell's serializer is the caller on
    /// a thread running PowerShell (Export-Clixml, PSSerializer), which
    /// swallows that and writes an empty dictionary, the error is also
    /// written for the user to see.
    /// </summary>
    public IDictionaryEnumerator GetEnumerator()
    {
        try
        {
            return new SnapshotEnumerator(Entries());
        }
        catch (Exception e) when (UnthrowableReads.Catches(e))
        {
            // Looked for here, not in the filter: the stack is unwound to this
            // call by now, so the caller is a frame or two away.
            if (UnthrowableReads.SerializerIsCalling()) UnthrowableReads.Report(this, "the entries", e);
            throw;
        }
    }

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
    public object Increment(object key) => Increment(key, One);

    /// <summary>Adds <paramref name="delta"/> (integer or double) atomically; returns the new value.</summary>
    public unsafe object Increment(object key, object delta)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedDelta = Encode(key, delta, valueScratch);
        ValueRead.Unmanaged sum = default; // valid contents: the core takes it as a reference
        fixed (byte* kp = encodedKey.Utf8)
        fixed (byte* dp = encodedDelta.Bytes)
        {
            var nativeKey = encodedKey.ToNative(kp);
            var nativeDelta = encodedDelta.ToNative(dp);
            var done = false;
            if (!_redis)
            {
                // In process: no GC transition, unless the core refuses (see DirectCalls).
                var plain = DirectCalls.IncrementPlain(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeDelta), (IntPtr)(&sum));
                if (!plain.IsOk) FailIncrement(plain.AsErr(), encodedDelta);
                done = plain.AsOk().Is;
            }
            if (!done)
            {
                var result = Interop.table_core_increment(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeDelta), (IntPtr)(&sum));
                if (!result.IsOk) FailIncrement(result.AsErr(), encodedDelta);
            }
        }
        GC.KeepAlive(this);
        return ValueKind.Of(sum.kind).IsInt ? ValueCodec.Narrow(sum.number) : sum.real;
    }

    [DoesNotReturn]
    private static void FailIncrement(ErrorCode error, EncodedValue delta)
    {
        delta.Abandon();
        throw NativeError.From(error);
    }

    /// <summary>Replaces the value only if it currently equals <paramref name="expected"/>; true if it did.</summary>
    /// <remarks>Compares strings (ordinally), numbers, booleans, dates, byte arrays and null by value; a live object matches only the
    /// instance the key holds (boxed values such as a Guid or a decimal: an equal one).</remarks>
    public unsafe bool CompareExchange(object key, object? expected, object? value)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> expectedScratch = stackalloc byte[EncodedValue.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedExpected = Encode(key, expected, expectedScratch);
        if (encodedExpected.IsSerialized)
        {
            // A copy read back and encoded again need not give the stored bytes (a
            // hashtable's order, CLIXML's deserialized types): the swap could never
            // happen, and a CAS loop would spin for ever.
            throw new SyncPoolException(ErrorCode.InvalidArgument,
                $"CompareExchange on a table on a Redis server compares numbers, strings, booleans, dates, byte arrays and $null; the expected value for key '{key}' is a [{PowerShellValues.TypeName(expected)}], and what a Redis table gives back is a copy of it. Change such values with $t.Update(key, {{ param($old) ... }}), which retries without comparing them.");
        }
        if (encodedExpected.ObjectId != 0)
        {
            // A live object: the core holds a registration of it, which only .NET can
            // compare with another (see CompareExchangeObject).
            encodedExpected.Abandon();
            return CompareExchangeObject(key, expected, value);
        }
        scoped EncodedValue encodedValue;
        try
        {
            encodedValue = Encode(key, value, valueScratch);
        }
        catch
        {
            encodedExpected.Abandon();
            throw;
        }
        ResultBoolErrorCode result;
        fixed (byte* kp = encodedKey.Utf8)
        fixed (byte* ep = encodedExpected.Bytes)
        fixed (byte* vp = encodedValue.Bytes)
        {
            var nativeKey = encodedKey.ToNative(kp);
            var nativeExpected = encodedExpected.ToNative(ep);
            var nativeValue = encodedValue.ToNative(vp);
            result = Interop.table_core_compare_exchange(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeExpected), (IntPtr)(&nativeValue));
        }
        GC.KeepAlive(this);
        if (!result.IsOk)
        {
            encodedExpected.Abandon();
            encodedValue.Abandon();
            throw NativeError.From(result.AsErr());
        }
        return result.AsOk().Is;
    }

    /// <summary>
    /// <see cref="CompareExchange"/> when <paramref name="expected"/> is a live
    /// object: the key must hold that very instance (or an equal boxed value,
    /// see <see cref="PowerShellValues.SameObject"/>). Which object the key
    /// holds is .NET's to tell, so the swap is a read, the comparison, and a
    /// write that the core makes only if the key's version is still the one
    /// read; when another write came between, it looks again.
    /// </summary>
    private bool CompareExchangeObject(object key, object? expected, object? value)
    {
        while (true)
        {
            if (!Read(key, out var current, out ulong version) || !PowerShellValues.SameObject(current, expected)) return false;
            if (ReplaceIfVersion(key, expectAbsent: false, version, value)) return true;
        }
    }

    /// <summary>Returns the value under <paramref name="key"/>, adding <paramref name="value"/> first if absent.</summary>
    public object? GetOrAdd(object key, object? value)
    {
        GetOrAddCore(key, value, out var stored);
        return stored;
    }

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
                bool found = Read(key, out var current, out ulong version);
            object? next = update(current);
            if (ReplaceIfVersion(key, expectAbsent: !found, version, next)) return next;
        }
        throw new SyncPoolException(ErrorCode.NotFinished,
            $"Update of key '{key}' gave up after {maxAttempts} attempts: other writers kept changing it. Use Lock-SyncTable (or $t.Lock) for long-running updates.");
    }

    /// <summary>
    /// Runs <paramref name="body"/> while holding the key's critical section
    /// (for invariants across several keys). Released on exceptions, including
    /// a pipeline being stopped. Re-entrant on the same thread. Waiting for
    /// the key ends when the PowerShell pipeline on this thread is stopped
    /// (Ctrl+C; see <see cref="PipelineStop"/>).
    /// </summary>
    public void Lock(object key, Action body) => Lock(key, body, Timeout.InfiniteTimeSpan, CancellationToken.None);

    public void Lock(object key, Action body, TimeSpan timeout, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(body);
        NativeTimeout(timeout); // refuses a bad timeout before anything is tried
        ulong owner = LockOwner;
        // A free lock is taken at once, with nothing to follow; only a wait
        // needs a signal that ends it when the pipeline stops (PipelineStop).
        bool taken = !cancel.IsCancellationRequested && Take(key, owner, TimeSpan.Zero, 0);
        if (!taken && (timeout != TimeSpan.Zero || cancel.IsCancellationRequested))
            taken = PipelineStop.Run(cancel, signal => Take(key, owner, timeout, signal));
        if (!taken) throw LockTimeout(key, timeout);
        RunHolding(key, owner, body);
    }

    /// <summary><see cref="Lock(object, Action, TimeSpan, CancellationToken)"/> with a native cancellation signal (0: none).</summary>
    internal void Lock(object key, Action body, TimeSpan timeout, ulong cancel)
    {
        ArgumentNullException.ThrowIfNull(body);
        ulong owner = LockOwner;
        if (!Take(key, owner, timeout, cancel)) throw LockTimeout(key, timeout);
        RunHolding(key, owner, body);
    }

    private static TimeoutException LockTimeout(object key, TimeSpan timeout) => new($"Could not lock key '{key}' within {timeout}.");

    /// <summary>Takes the key's lock for <paramref name="owner"/>, waiting up to <paramref name="timeout"/>; false when it did not.</summary>
    private unsafe bool Take(object key, ulong owner, TimeSpan timeout, ulong cancel)
    {
        ulong milliseconds = NativeTimeout(timeout);
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        var encoded = EncodedKey.From(key, keyScratch);
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            var taken = Interop.table_core_lock_key(_native, (IntPtr)(&nativeKey), owner, milliseconds, cancel);
            GC.KeepAlive(this);
            if (!taken.IsOk) throw NativeError.From(taken.AsErr());
            return taken.AsOk().Is;
        }
    }

    /// <summary>Runs <paramref name="body"/> holding the key's lock, then releases it.</summary>
    private void RunHolding(object key, ulong owner, Action body)
    {
        try
        {
            body();
        }
        catch (Exception bodyFailure)
        {
            // The body's own failure (or break, exit, a stopped pipeline) is what
            // ends the call; a release that fails too (a Redis lock found lost, a
            // table removed meanwhile) must not replace it, and must not vanish
            // either: it rides along (see ReleaseFailureKey).
            try
            {
                Unlock(key, owner);
            }
            catch (Exception releaseFailure)
            {
                bodyFailure.Data[ReleaseFailureKey] = releaseFailure;
            }
            throw;
        }
        Unlock(key, owner);
    }

    /// <summary>
    /// Where <see cref="Lock(object, Action)"/> puts, in the body's exception's
    /// <see cref="Exception.Data"/>, the failure of a release that failed after
    /// the body had already failed: SyncPool.NotLockOwner when the server lost
    /// a Redis lock meanwhile (Lock-SyncTable writes it as an error of its own
    /// before the body's). Read it with <see cref="ReleaseFailureOf"/>.
    /// </summary>
    private const string ReleaseFailureKey = "SyncPool.LockReleaseFailure";

    /// <summary>The release failure <see cref="Lock(object, Action)"/> attached to a body's exception (or one it is wrapped in), if any.</summary>
    public static Exception? ReleaseFailureOf(Exception bodyFailure)
    {
        for (Exception? e = bodyFailure; e != null; e = e.InnerException)
            if (e.Data[ReleaseFailureKey] is Exception failure) return failure;
        return null;
    }

    /// <summary>
    /// Blocks until <paramref name="key"/> exists; false on timeout. Wakes at
    /// once when it is written. Stopping the PowerShell pipeline on this
    /// thread (Ctrl+C) ends the wait, and the script, with
    /// PipelineStoppedException; a cancelled token, with OperationCanceledException.
    /// </summary>
    public bool WaitFor(object key, TimeSpan timeout) => WaitFor(key, timeout, CancellationToken.None);

    public bool WaitFor(object key, int timeoutMilliseconds) => WaitFor(key, TimeSpan.FromMilliseconds(timeoutMilliseconds));

    public bool WaitFor(object key, TimeSpan timeout, CancellationToken cancel) => WaitForAfter(key, null, timeout, cancel);

    /// <summary>
    /// Blocks until the key's version exceeds <paramref name="afterVersion"/>
    /// (see <see cref="GetVersion"/>); ends as <see cref="WaitFor(object, TimeSpan, CancellationToken)"/> does.
    /// </summary>
    public bool WaitForChange(object key, long afterVersion, TimeSpan timeout, CancellationToken cancel = default) =>
        WaitForAfter(key, afterVersion, timeout, cancel);

    /// <summary>
    /// The method waits: a key that is there already needs no wait, and no
    /// signal to end one; a wait follows the token and this thread's
    /// PowerShell pipeline (<see cref="PipelineStop"/>).
    /// </summary>
    private bool WaitForAfter(object key, long? afterVersion, TimeSpan timeout, CancellationToken cancel)
    {
        NativeTimeout(timeout); // refuses a bad timeout before anything is tried
        if (!cancel.IsCancellationRequested)
        {
            if (WaitForValue(key, afterVersion, TimeSpan.Zero, 0, out _)) return true;
            if (timeout == TimeSpan.Zero) return false;
        }
        return PipelineStop.Run(cancel, signal => WaitForValue(key, afterVersion, timeout, signal, out _));
    }

    /// <summary>
    /// The one wait behind WaitFor, WaitForChange and Wait-SyncTable: blocks
    /// in the core until the key exists (or, with <paramref name="afterVersion"/>,
    /// is written again), the timeout passes (false), native signal
    /// <paramref name="cancel"/> fires (OperationCanceledException; 0 = not
    /// cancellable) or the table is removed (ObjectDisposedException). Woken
    /// by whichever comes first; never polls. <paramref name="value"/> is the
    /// value the wait saw.
    /// </summary>
    internal unsafe bool WaitForValue(object key, long? afterVersion, TimeSpan timeout, ulong cancel, out object? value)
    {
        ulong milliseconds = NativeTimeout(timeout);
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        byte* buffer = stackalloc byte[ValueCodec.ReadBufferBytes];
        var encoded = EncodedKey.From(key, keyScratch);
        var after = afterVersion.GetValueOrDefault();
        var lent = ValueCodec.Lend(buffer);
        ValueRead.Unmanaged read = default; // valid contents: the core takes it as a reference
        ResultVoidErrorCode result;
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            result = Interop.table_core_wait_for(_native, (IntPtr)(&nativeKey), afterVersion.HasValue ? Bool.True : Bool.False,
                (ulong)Math.Max(after, 0), milliseconds, cancel, (IntPtr)(&lent), (IntPtr)(&read));
        }
        GC.KeepAlive(this);
        return Decoded(result, read, buffer, out value, out _);
    }

    /// <summary>The version of the key's last write, or -1 if absent. Versions only grow.</summary>
    public long GetVersion(object key)
    {
        return Read(key, out _, out ulong version) ? (long)version : -1;
    }

    /// <summary>
    /// What <c>$h.Clone()</c> gives for a hashtable: a plain hashtable copy
    /// (see <see cref="Snapshot"/>), the usual way to enumerate while others write.
    /// </summary>
    public Hashtable Clone() => Snapshot();

    /// <summary>Whether any entry holds <paramref name="value"/> (compared with Equals, as a hashtable does), at this moment.</summary>
    public bool ContainsValue(object? value)
    {
        foreach (var entry in Entries())
        {
            if (Equals(entry.Value, PowerShellValues.Unwrap(value)) || PowerShellValues.SameObject(entry.Value, value)) return true;
        }
        return false;
    }

    /// <summary>A plain hashtable copy (same case rule), safe to enumerate and change.</summary>
    public Hashtable Snapshot()
    {
        var copy = new Hashtable(CaseSensitive ? KeyComparer.Ordinal : KeyComparer.IgnoreCase);
        foreach (var entry in Entries()) copy[entry.Key] = entry.Value;
        return copy;
    }

    /// <summary>
    /// All entries as a JSON document (rust/src/data/document.rs): every value
    /// as data (see <see cref="PowerShellData"/> for what that covers). A
    /// value that is not data is refused (SyncPool.NotSerializable), and the
    /// message names every such key.
    /// </summary>
    internal unsafe string ExportJson()
    {
        var writer = new DataWriter();
        var entries = Entries();
        writer.Length(entries.Count);
        foreach (var entry in entries)
        {
            PowerShellData.Write(writer, entry.Key);
            PowerShellData.Write(writer, entry.Value);
        }
        fixed (byte* p = writer.Written)
        {
            var lent = new LentBytes.Unmanaged { ptr = (IntPtr)p, len = (ulong)writer.Written.Length };
            var result = Interop.table_core_write_document(_native, (IntPtr)(&lent));
            GC.KeepAlive(this);
            using (result)
            {
                if (!result.IsOk) throw NativeError.From(result.AsErr());
                using var text = result.AsOk();
                return text.String;
            }
        }
    }

    /// <summary>Loads a JSON document or a plain JSON object, all or nothing; returns the number of entries written.</summary>
    internal int ImportJson(string json, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ImportJson(System.Text.Encoding.UTF8.GetBytes(json), replace);
    }

    /// <summary>
    /// <see cref="ImportJson(string, bool)"/> for UTF-8 text (a file's bytes).
    /// The core checks the whole text first (a bad file, or two keys this
    /// table treats as one, changes nothing); then the entries are written,
    /// after clearing the table when <paramref name="replace"/> is set.
    /// </summary>
    internal int ImportJson(ReadOnlySpan<byte> utf8Json, bool replace = false)
    {
        var entries = ReadDocument(utf8Json);
        if (replace) Clear();
        if (_redis) SetMany(entries);
        else foreach (var entry in entries) Set(entry.Key, entry.Value);
        return entries.Count;
    }

    /// <summary>
    /// The first two of <paramref name="keys"/> that are one key in this table
    /// (the core's rule: case, [int] and [long]), or null. A key the table
    /// cannot take is refused as a write would refuse it.
    /// </summary>
    internal unsafe (int First, int Second)? FirstDuplicateKey(IEnumerable<object> keys)
    {
        var batch = new System.IO.MemoryStream();
        var w = new System.IO.BinaryWriter(batch);
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        foreach (var key in keys) WriteBatchKey(w, key, keyScratch);
        w.Flush();
        fixed (byte* p = batch.GetBuffer())
        {
            var lent = new LentBytes.Unmanaged { ptr = (IntPtr)p, len = (ulong)batch.Length };
            var result = Interop.table_core_first_duplicate_key(_native, (IntPtr)(&lent));
            GC.KeepAlive(this);
            if (!result.IsOk) throw NativeError.From(result.AsErr());
            var pair = result.AsOk();
            return pair.found.Is ? ((int)pair.first, (int)pair.second) : null;
        }
    }

    /// <summary>A key as a batch holds it (the layout rust/src/ffi/batch.rs reads).</summary>
    private static unsafe void WriteBatchKey(System.IO.BinaryWriter w, object key, Span<byte> scratch)
    {
        var encoded = EncodedKey.From(key, scratch);
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            if (nativeKey.kind._variant == KeyKind.Int.Native._variant)
            {
                w.Write((byte)1);
                w.Write(encoded.Number);
            }
            else
            {
                w.Write((byte)0);
                w.Write(encoded.Utf8.Length);
                w.Write(encoded.Utf8);
            }
        }
    }

    /// <summary>
    /// Writes many entries to a Redis table in one native call, which the core
    /// sends as one script per thousand entries (not one round trip each).
    /// The batch layout is the one rust/src/ffi/batch.rs reads.
    /// </summary>
    private unsafe void SetMany(List<DictionaryEntry> entries)
    {
        var batch = new System.IO.MemoryStream();
        var w = new System.IO.BinaryWriter(batch);
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        foreach (var entry in entries)
        {
            WriteBatchKey(w, entry.Key, keyScratch);
            var value = EncodedValue.ForRedis(entry.Value, valueScratch, entry.Key);
            fixed (byte* vp = value.Bytes)
            {
                var native = value.ToNative(vp);
                w.Write(native.kind._variant);
                w.Write(native.number);
                w.Write(native.real);
                w.Write(native.flag);
                w.Write(value.Bytes.Length);
                w.Write(value.Bytes);
            }
        }
        w.Flush();
        var bytes = batch.GetBuffer();
        fixed (byte* p = bytes)
        {
            var lent = new LentBytes.Unmanaged { ptr = (IntPtr)p, len = (ulong)batch.Length };
            var result = Interop.table_core_put_many(_native, (IntPtr)(&lent));
            GC.KeepAlive(this);
            if (!result.IsOk) throw NativeError.From(result.AsErr());
        }
    }

    /// <summary>The entries a JSON document or plain JSON object stands for, checked by the core.</summary>
    private unsafe List<DictionaryEntry> ReadDocument(ReadOnlySpan<byte> utf8Json)
    {
        byte[] wire;
        fixed (byte* p = utf8Json)
        {
            var lent = new LentBytes.Unmanaged { ptr = (IntPtr)p, len = (ulong)utf8Json.Length };
            var result = Interop.table_core_read_document(_native, (IntPtr)(&lent));
            GC.KeepAlive(this);
            using (result)
            {
                if (!result.IsOk) throw NativeError.From(result.AsErr());
                using var bytes = result.AsOk();
                wire = NativeBytes.Copy(bytes);
            }
        }
        var reader = new DataReader(wire);
        int count = reader.Length();
        var entries = new List<DictionaryEntry>(count);
        for (int i = 0; i < count; i++)
        {
            object key = PowerShellData.Read(ref reader)!;
            entries.Add(new DictionaryEntry(key, PowerShellData.Read(ref reader)));
        }
        return entries;
    }

    /// <summary>
    /// Removes the table: the core empties it and refuses every later call
    /// (ObjectDisposedException; see <see cref="UnthrowableReads"/> for the
    /// reads PowerShell will not let throw). Waits on it end at once.
    /// </summary>
    public void Dispose()
    {
        var closed = Interop.table_core_close(_native);
        GC.KeepAlive(this);
        closed.AsOk();
        SyncTableRegistry.Forget(this);
    }

    /// <summary>
    /// The table's name, place and size. PowerShell's string expansion ("$t")
    /// would turn an exception here into a bare "cannot convert to string", so
    /// when PowerShell code runs on the thread (also .NET code called from a
    /// script, such as -f) a failed size read is written as an error instead
    /// (see <see cref="UnthrowableReads"/>) and the text says what happened; a
    /// plain .NET caller gets the exception.
    /// </summary>
    public override string ToString()
    {
        string where = RedisAddress is null ? "" : $" on {RedisAddress}";
        string label = Name is null ? "SyncTable" : $"SyncTable '{Name}'{where}";
        try
        {
            return $"{label} ({CountNow()} entries)";
        }
        catch (Exception e) when (UnthrowableReads.Catches(e))
        {
            return UnthrowableReads.Report(this, "its size", e) is RemovedSyncTable ? $"{label} (removed)" : $"{label} (size unknown: the read failed)";
        }
    }

    /// <summary>
    /// For a table on a Redis server: deletes its data from the server (for
    /// every process), then disconnects like <see cref="Dispose"/>. For an
    /// in-process table the same as <see cref="Dispose"/>.
    /// </summary>
    public void DeleteData()
    {
        var deleted = Interop.table_core_delete_data(_native);
        GC.KeepAlive(this);
        if (!deleted.IsOk) throw NativeError.From(deleted.AsErr());
        SyncTableRegistry.Forget(this);
    }

    // ---- plumbing -----------------------------------------------------------

    /// <summary>A value for the core: live objects stay in this process for an in-process table, and become data for a Redis one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private EncodedValue Encode(object key, object? value, Span<byte> scratch) =>
        _redis ? EncodedValue.ForRedis(value, scratch, key) : EncodedValue.From(value, scratch);

    /// <summary>Identifies the caller for key locks: one pipeline runs on one thread.</summary>
    private static ulong LockOwner => (ulong)Environment.CurrentManagedThreadId;

    /// <summary>A timeout as the core takes it: milliseconds, <c>ulong.MaxValue</c> for none.</summary>
    private static ulong NativeTimeout(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan || timeout == TimeSpan.MaxValue) return ulong.MaxValue;
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "A timeout cannot be negative.");
        return (ulong)Math.Ceiling(timeout.TotalMilliseconds);
    }

    /// <summary>The common read: value and version in one trip into the core.</summary>
    /// <remarks>An in-process table is read without a GC transition (see <see cref="DirectCalls"/>).</remarks>
    internal unsafe bool Read(object key, out object? value, out ulong version) => _redis
        ? KeyedRead<KeyedCalls.Read>(key, out value, out version)
        : KeyedRead<KeyedCalls.DirectRead>(key, out value, out version);

    /// <summary>
    /// One key in, one value (and its version) out, in one trip into the core:
    /// the shape of a read and of a delete, which differ only in the native call.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private unsafe bool KeyedRead<TCall>(object key, out object? value, out ulong version) where TCall : struct, KeyedCalls.ICall
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        byte* buffer = stackalloc byte[ValueCodec.ReadBufferBytes];
        var encoded = EncodedKey.From(key, keyScratch);
        var lent = ValueCodec.Lend(buffer);
        ValueRead.Unmanaged read = default; // valid contents: the core takes it as a reference
        ResultVoidErrorCode result;
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            result = default(TCall).Run(_native, (IntPtr)(&nativeKey), (IntPtr)(&lent), (IntPtr)(&read));
        }
        GC.KeepAlive(this);
        return Decoded(result, read, buffer, out value, out version);
    }

    /// <summary>The value a single-key call wrote into <paramref name="read"/> (false: no value), or its failure as an exception.</summary>
    private static unsafe bool Decoded(in ResultVoidErrorCode result, in ValueRead.Unmanaged read, byte* buffer, out object? value, out ulong version)
    {
        if (!result.IsOk) throw NativeError.From(result.AsErr());
        version = read.version;
        if (!read.found.Is)
        {
            value = null;
            return false;
        }
        value = ValueCodec.Decode(read, buffer);
        return true;
    }

    private unsafe bool GetOrAddCore(object key, object? value, out object? stored)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        byte* buffer = stackalloc byte[ValueCodec.ReadBufferBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedValue = Encode(key, value, valueScratch);
        var lent = ValueCodec.Lend(buffer);
        AddedRead.Unmanaged added = default; // valid contents: the core takes it as a reference
        ResultVoidErrorCode result;
        fixed (byte* kp = encodedKey.Utf8)
        fixed (byte* vp = encodedValue.Bytes)
        {
            var nativeKey = encodedKey.ToNative(kp);
            var nativeValue = encodedValue.ToNative(vp);
            result = Interop.table_core_get_or_add(_native, (IntPtr)(&nativeKey), (IntPtr)(&nativeValue), (IntPtr)(&lent), (IntPtr)(&added));
        }
        GC.KeepAlive(this);
        if (!result.IsOk)
        {
            encodedValue.Abandon();
            throw NativeError.From(result.AsErr());
        }
        stored = ValueCodec.Decode(added.stored, buffer);
        return added.added.Is;
    }

    private unsafe bool ReplaceIfVersion(object key, bool expectAbsent, ulong version, object? value)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[EncodedValue.ScratchBytes];
        var encodedKey = EncodedKey.From(key, keyScratch);
        var encodedValue = Encode(key, value, valueScratch);
        ResultBoolErrorCode result;
        fixed (byte* kp = encodedKey.Utf8)
        fixed (byte* vp = encodedValue.Bytes)
        {
            var nativeKey = encodedKey.ToNative(kp);
            var nativeValue = encodedValue.ToNative(vp);
            result = Interop.table_core_replace_if_version(_native, (IntPtr)(&nativeKey), expectAbsent ? Bool.True : Bool.False,
                version, (IntPtr)(&nativeValue));
        }
        GC.KeepAlive(this);
        if (!result.IsOk)
        {
            encodedValue.Abandon();
            throw NativeError.From(result.AsErr());
        }
        return result.AsOk().Is;
    }

    private unsafe void Unlock(object key, ulong owner)
    {
        Span<byte> keyScratch = stackalloc byte[EncodedKey.ScratchBytes];
        var encoded = EncodedKey.From(key, keyScratch);
        ResultVoidErrorCode result;
        fixed (byte* kp = encoded.Utf8)
        {
            var nativeKey = encoded.ToNative(kp);
            result = Interop.table_core_unlock_key(_native, (IntPtr)(&nativeKey), owner);
        }
        GC.KeepAlive(this);
        if (!result.IsOk) throw NativeError.From(result.AsErr());
    }

    private List<DictionaryEntry> Entries()
    {
        using var entries = NativeCall.Run(() => _core.Snapshot());
        GC.KeepAlive(this);
        var list = new List<DictionaryEntry>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            list.Add(new DictionaryEntry(EncodedKey.Decode(entry.key), ValueCodec.Decode(entry.data)));
        }
        return list;
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
