using System;
using System.Runtime.CompilerServices;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// A table key made ready for the native core: text (as strict UTF-8) or a
/// 64-bit integer. Case rules are not applied here: the core decides them.
/// A ref struct so short keys are encoded into a stack buffer, not the heap.
/// </summary>
internal readonly ref struct EncodedKey
{
    /// <summary>Stack bytes callers reserve for key text (longer keys use the heap).</summary>
    public const int ScratchBytes = 256;

    private static readonly KeyKind.Unmanaged TextKind = KeyKind.Text.Native;
    private static readonly KeyKind.Unmanaged IntKind = KeyKind.Int.Native;

    private readonly KeyKind.Unmanaged _kind;
    public readonly long Number;
    public readonly ReadOnlySpan<byte> Utf8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private EncodedKey(KeyKind.Unmanaged kind, long number, ReadOnlySpan<byte> utf8)
    {
        _kind = kind;
        Number = number;
        Utf8 = utf8;
    }

    /// <summary>Accepts strings, chars and integer types, like a hashtable's usual keys.</summary>
    /// <remarks>A plain string, by far the commonest key, is encoded without any other type test.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static EncodedKey From(object? key, Span<byte> scratch) =>
        key is string text ? new EncodedKey(TextKind, 0, StrictUtf8.Encode(text, scratch, "key")) : FromOther(key, scratch);

    private static EncodedKey FromOther(object? key, Span<byte> scratch)
    {
        key = PowerShellValues.Unwrap(key);
        switch (key)
        {
            case null:
                throw new ArgumentNullException(nameof(key), "A SyncTable key cannot be null.");
            case string text:
                return new EncodedKey(TextKind, 0, StrictUtf8.Encode(text, scratch, "key"));
            case char c:
                return new EncodedKey(TextKind, 0, StrictUtf8.Encode(c.ToString(), scratch, "key"));
            case int i:
                return new EncodedKey(IntKind, i, default);
            case long or short or sbyte or byte or ushort or uint:
                return new EncodedKey(IntKind, Convert.ToInt64(key), default);
            case ulong big when big <= long.MaxValue:
                return new EncodedKey(IntKind, (long)big, default);
            default:
                throw new ArgumentException(
                    $"A SyncTable key must be a string or an integer; a key of type [{key.GetType().FullName}] is not supported.", nameof(key));
        }
    }

    /// <summary>The native view; <paramref name="pinned"/> must point at <see cref="Utf8"/> for the call's duration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe KeyIn.Unmanaged ToNative(byte* pinned) => new()
    {
        kind = _kind,
        number = Number,
        text = new LentBytes.Unmanaged { ptr = (IntPtr)pinned, len = (ulong)Utf8.Length },
    };

    /// <summary>The .NET key a native key came back as.</summary>
    public static object Decode(KeyOut key)
    {
        if (key.IsInt) return ValueCodec.Narrow(key.AsInt());
        return key.AsText().String;
    }
}
