using System;

namespace SyncPool.Table;

/// <summary>
/// How a DateTime is held outside .NET (in the core, on a Redis server, in
/// an export file): ticks and a kind.
/// </summary>
/// <remarks>
/// <para>
/// Kinds 0 (Unspecified), 1 (Utc) and 2 (Local) are .NET's own, with the
/// ticks as they are. A Local time names a moment, so it is held as that
/// moment: UTC ticks with SyncPool's kind 4, which a process in another time
/// zone reads back as the same moment, in its own local time (as
/// Import-Clixml does). Held as wall-clock ticks, 12:00 written in New York
/// came back as 12:00 in Tokyo, 13 hours off.
/// </para>
/// <para>
/// Kind 2 (wall-clock ticks, time zone unknown) is what earlier versions
/// wrote, to files and to Redis servers, and still reads back as before. It
/// is also kept for the few local times whose UTC moment does not give them
/// back here (a time in the gap a daylight-saving change skips, or one so
/// close to the ends of the DateTime range that the moment is cut off),
/// which are kept exactly as given rather than moved.
/// </para>
/// </remarks>
internal static class DateForms
{
    private const byte LocalMoment = 4;

    /// <summary>The ticks and kind <paramref name="date"/> is held as.</summary>
    public static (long Ticks, byte Kind) Hold(DateTime date)
    {
        if (date.Kind != DateTimeKind.Local) return (date.Ticks, (byte)date.Kind);
        var moment = date.ToUniversalTime();
        return moment.ToLocalTime().Ticks == date.Ticks ? (moment.Ticks, LocalMoment) : (date.Ticks, (byte)DateTimeKind.Local);
    }

    /// <summary>The DateTime held as <paramref name="ticks"/> and <paramref name="kind"/> (the core checks both before handing them out).</summary>
    public static DateTime Restore(long ticks, byte kind) => kind == LocalMoment
        ? new DateTime(ticks, DateTimeKind.Utc).ToLocalTime()
        : new DateTime(ticks, (DateTimeKind)kind);
}
