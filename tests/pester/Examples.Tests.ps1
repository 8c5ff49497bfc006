# Every PowerShell example a user can copy: the ```powershell blocks of README.md
# and the examples of every cmdlet's help (module/help/*.json). Each runs as
# pasted, in a fresh pwsh whose module path holds the staged module, in an empty
# working directory, under a time limit, and must write no error a user would
# see (nothing on stderr, exit code 0).
#
# A line ending in "# -> <text>" claims a result: the statement before the
# comment must output exactly <text> (objects as strings, several joined by
# ", "). That is how the examples' comments such as "$t.hits   # -> 1000" are
# checked rather than trusted.

BeforeDiscovery {
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $examples = [System.Collections.Generic.List[object]]::new()
    $readme = Get-Content -Raw (Join-Path $root 'README.md')
    $n = 0
    foreach ($m in [regex]::Matches($readme, '(?ms)^```powershell\r?\n(.*?)^```')) {
        $n++
        $examples.Add(@{ Name = "README block $n"; Code = $m.Groups[1].Value })
    }
    foreach ($file in Get-ChildItem (Join-Path $root 'module/help') -Filter *.json | Sort-Object Name) {
        $help = Get-Content -Raw $file.FullName | ConvertFrom-Json
        $i = 0
        foreach ($e in $help.examples) {
            $i++
            $examples.Add(@{ Name = "$($help.name) example $i ($($e.title))"; Code = $e.code })
        }
    }
}

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1

    # Turns "statement   # -> expected" lines into checks; everything else runs unchanged.
    function ConvertTo-CheckedScript([string] $Code) {
        $lines = $Code -split "`r?`n"
        $out = for ($i = 0; $i -lt $lines.Count; $i++) {
            $line = $lines[$i]
            if ($line -match '^(?<code>.*\S)\s+#\s*->\s*(?<expect>.*\S)\s*$') {
                $expect = $Matches.expect.Replace("'", "''")
                "`$__got = (@($($Matches.code)) | ForEach-Object { `"`$_`" }) -join ', '"
                "if (`$__got -cne '$expect') { throw ""Example line $($i + 1) claims '$expect' but gave '`$__got'."" }"
            }
            else { $line }
        }
        $out -join "`n"
    }

    $script:ModuleParent = Split-Path $env:SYNCPOOL_MODULE_PATH -Parent
    $script:DocumentedRedis = 'redis://127.0.0.1:6379/0'

}

Describe 'Examples run as pasted' {
    BeforeEach { Register-CurrentTest }

    It '<Name>' -ForEach $examples {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "syncpool-example-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory $dir | Out-Null
        # Examples of Redis tables name the usual local server; they run against the
        # run's private one (SYNCPOOL_REDIS_URI), so tests never touch another server.
        if ($Code.Contains($script:DocumentedRedis)) {
            $env:SYNCPOOL_REDIS_URI | Should -Not -BeNullOrEmpty -Because 'examples of Redis tables need the test run''s private server'
            $Code = $Code.Replace($script:DocumentedRedis, $env:SYNCPOOL_REDIS_URI)
        }
        try {
            $script = @"
`$ErrorActionPreference = 'Continue'
`$PSStyle.OutputRendering = 'PlainText'
`$env:PSModulePath = '$($script:ModuleParent.Replace("'", "''"))' + [IO.Path]::PathSeparator + `$env:PSModulePath
$(ConvertTo-CheckedScript $Code)
"@
            $child = Invoke-ChildPwsh -Command $script -TimeoutSeconds 90 -WorkingDirectory $dir
            $report = "exit $($child.ExitCode)`n$($child.Output -join "`n")`n$($child.Error)" -replace '\x1b\[[0-9;]*[A-Za-z]', ''
            # An error the user would see goes to stderr (errors silenced with -ErrorAction do not).
            $child.ExitCode | Should -Be 0 -Because $report
            $child.Error | Should -BeNullOrEmpty -Because $report
        }
        finally {
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}
