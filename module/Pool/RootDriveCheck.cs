using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace SyncPool.Pool;

/// <summary>
/// Turns off, in a worker runspace, PowerShell's check that the file-system
/// root drive <c>/</c> still exists.
/// </summary>
/// <remarks>
/// On Linux and macOS PowerShell marks <c>/</c> as an automatically mounted
/// drive, and re-validates such a drive on every lookup by asking
/// <see cref="System.IO.DriveInfo.DriveType"/>, which reads and parses the
/// whole mount table. A runspace reset and a change of directory each look
/// the drive up several times: measured on 7.6.9, reset 0.78 ms and
/// SetLocation 0.75 ms with the check, 0.33 ms and 0.24 ms without it, and
/// a worker resets its runspace after every batch. The root of the file
/// system cannot be unmounted, so the check can never fail there. The flag is
/// internal to PowerShell, hence reflection; if a PowerShell version does not
/// have it, nothing changes but speed. Only SyncPool's own worker runspaces
/// are touched, never the caller's.
/// </remarks>
internal static class RootDriveCheck
{
    private static readonly PropertyInfo? IsAutoMounted =
        typeof(PSDriveInfo).GetProperty("IsAutoMounted", BindingFlags.Instance | BindingFlags.NonPublic);

    public static void TurnOff(Runspace runspace)
    {
        if (IsAutoMounted is null || OperatingSystem.IsWindows()) return;
        try
        {
            foreach (var drive in runspace.SessionStateProxy.Drive.GetAllForProvider("FileSystem"))
            {
                if (drive.Root == "/" && IsAutoMounted.GetValue(drive) is true) IsAutoMounted.SetValue(drive, false);
            }
        }
        catch (Exception e) when (e is TargetInvocationException or ArgumentException or MethodAccessException or InvalidOperationException)
        {
            // Only a speed-up: the runspace works the same without it.
        }
    }
}
