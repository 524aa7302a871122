export function writeOrCheck(file: string, text: string, options: { check: boolean; fix: string }): void;
