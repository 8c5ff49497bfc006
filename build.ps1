<#
.SYNOPSIS
    Builds, tests, benchmarks, demonstrates and installs SyncPool.

.DESCRIPTION
    One entry point for every step. The steps themselves live in build.cs (a
    .NET file-based program) so that they run the same way with or without
    PowerShell installed; this script is the PowerShell face of it.

    Build    cargo build --release, regenerate bindings/, dotnet build, and stage
             a ready-to-import module in out/SyncPool/ (manifest, assembly,
             runtimes/<rid>/native/<native library>).
    Test     every suite: bindings drift check, cargo test, the C# cross-language
             tests, and Pester in a fresh pwsh; ends with 'N passed, N failed'.
    Bench    benchmarks under tests/bench; results go to tests/bench/results/.
    Demo     builds if needed and runs examples/demo.ps1 against the staged module.
    Install  copies the staged module into your user module path.
    Clean    removes build output.

.PARAMETER Task
    The step to run. Tab completion offers the valid names.

.EXAMPLE
    ./build.ps1
    Builds and stages the module in out/SyncPool.

.EXAMPLE
    ./build.ps1 -Task Test
    Runs every test suite and prints one summary line.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Demo
    Runs the demo with the PowerShell pinned in .config/dotnet-tools.json.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Bench', 'Demo', 'Install', 'Clean')]
    [string] $Task = 'Build'
)

$ErrorActionPreference = 'Stop'
if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    throw 'The .NET SDK (dotnet) was not found on PATH. Install the .NET 10 SDK from https://dot.net and run the build again.'
}
& dotnet run --file (Join-Path $PSScriptRoot 'build.cs') -- $Task
exit $LASTEXITCODE
