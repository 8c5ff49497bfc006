using System;
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

    public readonly ValueKind Kind;
    public readonly long Number;
    public readonly double Real;
    public readonly ReadOnlySpan<byte> Bytes;
    public readonly byte Flag;

    private EncodedValue(ValueKind kind, long number = 0, double real = 0, ReadOnlySpan<byte> bytes = default, byte flag = 0)
    {
        Kind = kind;
        Number = number;
        Real = real;
        Bytes = bytes;
        Flag = flag;
    }

    /// <summary>Id registered for a live object, so a failed call can forget it.</summary>
    public ulong ObjectId => Kind.IsObject ? (ulong)Number : 0;

    public static EncodedValue From(object? value, Span<byte> scratch)
    {
        object? bare = PowerShellValues.Unwrap(value);
        switch (bare)
        {
            case null: return new EncodedValue(ValueKind.Null);
            case bool b: return new EncodedValue(ValueKind.Bool, b ? 1 : 0);
            case int or long or short or sbyte or byte or ushort or uint:
                return new EncodedValue(ValueKind.Int, Convert.ToInt64(bare));
            case double d: return new EncodedValue(ValueKind.Double, real: d);
            case float f: return new EncodedValue(ValueKind.Double, real: f);
            case string s: return new EncodedValue(ValueKind.Text, bytes: StrictUtf8.Encode(s, scratch, "value"));
            case byte[] bytes: return new EncodedValue(ValueKind.Bytes, bytes: bytes); // copied by the core during the call
            case DateTime date: return new EncodedValue(ValueKind.DateTime, date.Ticks, flag: (byte)date.Kind);
            default:
                // Keep what the caller passed (a PSObject keeps its extra members).
                return new EncodedValue(ValueKind.Object, (long)ObjectRegistry.Register(value!));
        }
    }

    public unsafe ValueIn ToNative(byte* pinned) => new()
    {
        kind = Kind,
        number = Number,
        real = Real,
        bytes = SliceByte.From((IntPtr)pinned, (ulong)Bytes.Length),
        flag = Flag,
    };

    /// <summary>Call when the native call carrying this value failed: an object registered for it is not kept.</summary>
    public void Abandon()
    {
        if (Kind.IsObject) ObjectRegistry.Forget(ObjectId);
    }
}

internal static class ValueCodec
{
    /// <summary>Integers come back as [int] when they fit, as PowerShell types literals.</summary>
    public static object Narrow(long value) => value is >= int.MinValue and <= int.MaxValue ? (object)(int)value : value;

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
            return new DateTime(when.ticks, (DateTimeKind)when.flag);
        }
        return ObjectRegistry.Take(value.AsObject());
    }
}
