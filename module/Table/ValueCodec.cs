using System;
using System.Runtime.CompilerServices;
using System.Text;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// A table value made ready for the native core. Strings, integers, doubles,
/// booleans, byte arrays, DateTime and null are stored natively (and can be
/// exported); anything else is a live object kept in <see cref="ObjectRegistry"/>.
/// </summary>
internal readonly ref struct EncodedValue
{
    /// <summary>Stack bytes callers reserve for short text values (longer ones use the heap).</summary>
    public const int ScratchBytes = 256;

    private static readonly ValueKind.Unmanaged NullKind = ValueKind.Null.Native;
    private static readonly ValueKind.Unmanaged BoolKind = ValueKind.Bool.Native;
    private static readonly ValueKind.Unmanaged IntKind = ValueKind.Int.Native;
    private static readonly ValueKind.Unmanaged DoubleKind = ValueKind.Double.Native;
    private static readonly ValueKind.Unmanaged TextKind = ValueKind.Text.Native;
    private static readonly ValueKind.Unmanaged BytesKind = ValueKind.Bytes.Native;
    private static readonly ValueKind.Unmanaged DateTimeKind = ValueKind.DateTime.Native;
    private static readonly ValueKind.Unmanaged ObjectKind = ValueKind.Object.Native;
    private static readonly ValueKind.Unmanaged DataKind = ValueKind.Data.Native;
    private static readonly ValueKind.Unmanaged ClixmlKind = ValueKind.Clixml.Native;

    private readonly ValueKind.Unmanaged _kind;
    public readonly long Number;
    public readonly double Real;
    public readonly ReadOnlySpan<byte> Bytes;
    public readonly byte Flag;

    /// <summary>Id registered for a live object (0: the value is not one), so a failed call can forget it.</summary>
    public readonly ulong ObjectId;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private EncodedValue(ValueKind.Unmanaged kind, long number = 0, double real = 0, ReadOnlySpan<byte> bytes = default, byte flag = 0, ulong objectId = 0)
    {
        _kind = kind;
        Number = number;
        Real = real;
        Bytes = bytes;
        Flag = flag;
        ObjectId = objectId;
    }

    /// <summary>PowerShell data or CLIXML for a Redis table: a value read back from it is a copy, whose encoding may differ.</summary>
    public bool IsSerialized => _kind._variant == DataKind._variant || _kind._variant == ClixmlKind._variant;

    /// <summary>An integer or a double: nothing the core must adopt or release.</summary>
    public bool IsNumber => _kind._variant == IntKind._variant || _kind._variant == DoubleKind._variant;

    /// <remarks>Plain ints and strings, by far the commonest values, are encoded without any other type test.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static EncodedValue From(object? value, Span<byte> scratch) => value switch
    {
        int i => new EncodedValue(IntKind, i),
        string s => new EncodedValue(TextKind, bytes: StrictUtf8.Encode(s, scratch, "value")),
        _ => FromOther(value, scratch, forRedisKey: null),
    };

    /// <summary>
    /// <see cref="From"/> for a table on a Redis server, which cannot hold a
    /// live object: anything that is not a plain value is turned into
    /// PowerShell data or CLIXML here (see <see cref="RemoteForms"/>), or
    /// refused naming <paramref name="key"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static EncodedValue ForRedis(object? value, Span<byte> scratch, object key) => value switch
    {
        int i => new EncodedValue(IntKind, i),
        string s => new EncodedValue(TextKind, bytes: StrictUtf8.Encode(s, scratch, "value")),
        _ => FromOther(value, scratch, forRedisKey: key),
    };

    private static EncodedValue FromOther(object? value, Span<byte> scratch, object? forRedisKey)
    {
        object? bare = PowerShellValues.Unwrap(value);
        switch (bare)
        {
            case null: return new EncodedValue(NullKind);
            case int i: return new EncodedValue(IntKind, i);
            case bool b: return new EncodedValue(BoolKind, b ? 1 : 0);
            case long l: return new EncodedValue(IntKind, l);
            case short or sbyte or byte or ushort or uint:
                return new EncodedValue(IntKind, Convert.ToInt64(bare));
            case double d: return new EncodedValue(DoubleKind, real: d);
            case float f: return new EncodedValue(DoubleKind, real: f);
            case string s: return new EncodedValue(TextKind, bytes: StrictUtf8.Encode(s, scratch, "value"));
            case byte[] bytes: return new EncodedValue(BytesKind, bytes: bytes); // copied by the core during the call
            case DateTime date:
            {
                var (ticks, kind) = DateForms.Hold(date);
                return new EncodedValue(DateTimeKind, ticks, flag: kind);
            }
            default:
                if (forRedisKey is not null)
                {
                    var (isData, serialized) = RemoteForms.Encode(value!, forRedisKey);
                    return new EncodedValue(isData ? DataKind : ClixmlKind, bytes: serialized);
                }
                // Keep what the caller passed (a PSObject keeps its extra members).
                ulong id = ObjectRegistry.Register(value!);
                return new EncodedValue(ObjectKind, (long)id, objectId: id);
        }
    }

    /// <summary>The native view; <paramref name="pinned"/> must point at <see cref="Bytes"/> for the call's duration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe ValueIn.Unmanaged ToNative(byte* pinned) => new()
    {
        kind = _kind,
        number = Number,
        real = Real,
        bytes = new LentBytes.Unmanaged { ptr = (IntPtr)pinned, len = (ulong)Bytes.Length },
        flag = Flag,
    };

    /// <summary>Call when the native call carrying this value failed: an object registered for it is not kept.</summary>
    public void Abandon()
    {
        if (ObjectId != 0) ObjectRegistry.Forget(ObjectId);
    }
}

internal static class ValueCodec
{
    /// <summary>Stack bytes callers lend a single-key call for the text or bytes it hands back (the core parks longer ones).</summary>
    public const int ReadBufferBytes = 512;

    private static readonly object True = true, False = false;

    /// <summary>Integers come back as [int] when they fit, as PowerShell types literals.</summary>
    /// <remarks>Small ints (flags, counters, ids) come from a cache of boxes, so reading them allocates nothing.</remarks>
    public static object Narrow(long value)
    {
        if ((ulong)(value - SmallIntMin) < (ulong)SmallInts.Length) return SmallInts[value - SmallIntMin];
        return value is >= int.MinValue and <= int.MaxValue ? (object)(int)value : value;
    }

    private const int SmallIntMin = -128;
    private static readonly object[] SmallInts = BoxSmallInts(SmallIntMin, 1023);

    private static object[] BoxSmallInts(int from, int to)
    {
        var boxes = new object[to - from + 1];
        for (int i = 0; i < boxes.Length; i++) boxes[i] = from + i;
        return boxes;
    }

    /// <summary>A buffer for <see cref="Decode(in ValueRead.Unmanaged, byte*)"/>, described for the core.</summary>
    public static unsafe LentBuffer.Unmanaged Lend(byte* buffer) => new() { ptr = (IntPtr)buffer, len = ReadBufferBytes };

    /// <summary>
    /// The .NET value of a single-key call's result (<c>found</c> must be
    /// true). <paramref name="buffer"/> is the buffer lent to that call: text
    /// and bytes are read from it, or taken from where the core parked them.
    /// Objects are fetched and their lease ended.
    /// </summary>
    public static unsafe object? Decode(in ValueRead.Unmanaged read, byte* buffer)
    {
        var kind = ValueKind.Of(read.kind);
        if (kind.IsInt) return Narrow(read.number);
        if (kind.IsText)
        {
            return read.parked == 0
                ? Encoding.UTF8.GetString(buffer, checked((int)read.length))
                : Encoding.UTF8.GetString(TakeParked(read));
        }
        if (kind.IsDouble) return read.real;
        if (kind.IsBool) return read.number != 0 ? True : False;
        if (kind.IsNull) return null;
        if (kind.IsDateTime) return DateForms.Restore(read.number, read.flag);
        if (kind.IsBytes) return read.parked == 0 ? new ReadOnlySpan<byte>(buffer, checked((int)read.length)).ToArray() : TakeParked(read);
        if (kind.IsData || kind.IsClixml)
        {
            return read.parked == 0
                ? RemoteForms.Decode(kind.IsData, new ReadOnlySpan<byte>(buffer, checked((int)read.length)))
                : RemoteForms.Decode(kind.IsData, TakeParked(read));
        }
        return ObjectRegistry.Take((ulong)read.number, read.lease);
    }

    /// <summary>Text or bytes the core parked because they did not fit the lent buffer.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe byte[] TakeParked(in ValueRead.Unmanaged read)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)read.length));
        fixed (byte* p = bytes)
        {
            var target = new LentBuffer.Unmanaged { ptr = (IntPtr)p, len = (ulong)bytes.Length };
            var taken = Interop.syncpool_parked_take(read.parked, (IntPtr)(&target));
            if (!taken.IsOk) throw NativeError.From(taken.AsErr());
        }
        return bytes;
    }

    /// <summary>
    /// Copies a native value into .NET. Does not free it: whoever owns the
    /// native memory disposes it (a value inside a native vector is owned by
    /// the vector, and freeing it twice would corrupt the heap).
    /// </summary>
    public static object? Decode(ValueOut value)
    {
        if (value.IsNull) return null;
        if (value.IsBool) return value.AsBool() != 0;
        if (value.IsInt) return Narrow(value.AsInt());
        if (value.IsDouble) return value.AsDouble();
        if (value.IsText) return value.AsText().String;
        if (value.IsBytes) return NativeBytes.Copy(value.AsBytes());
        if (value.IsDateTime)
        {
            var when = value.AsDateTime();
            return DateForms.Restore(when.ticks, when.flag);
        }
        if (value.IsData) return RemoteForms.Decode(isData: true, NativeBytes.Copy(value.AsData()));
        if (value.IsClixml) return RemoteForms.Decode(isData: false, NativeBytes.Copy(value.AsClixml()));
        var lease = value.AsObject();
        return ObjectRegistry.Take(lease.id, lease.lease);
    }
}
