// The one source of dxbackup_test_pch, the target whose precompiled
// header (test_pch.h) every test binary reuses; it defines nothing.
