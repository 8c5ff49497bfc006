using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// The caller's file-system directory, where its tasks start. Asking
/// PowerShell for a location's provider path re-validates the drive (on
/// Linux and macOS that reads the whole mount table, see
/// <see cref="Pool.RootDriveCheck"/>), so the last answer is kept for as long
/// as the caller stays in the same directory of the same drive.
/// </summary>
internal static class CallerDirectory
{
    private sealed record Known(PSDriveInfo Drive, string Path, string ProviderPath);

    private static Known? s_last;

    public static string? Of(SessionState state)
    {
        var location = state.Path.CurrentFileSystemLocation;
        if (location is null) return null;
        var last = s_last;
        // The same drive object (a re-created drive is a new one) and the same path within it.
        if (last is not null && ReferenceEquals(last.Drive, location.Drive) && last.Path == location.Path) return last.ProviderPath;
        string providerPath = location.ProviderPath;
        if (location.Drive is { } drive) s_last = new Known(drive, location.Path, providerPath);
        return providerPath;
    }
}
