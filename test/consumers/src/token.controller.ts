import { Controller, Get, Param } from '@nestjs/common';
import { type Token, TokenService } from './token.service.js';

@Controller('token')
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Get(':region')
  token(@Param('region') region: string): Promise<Token> {
    this.tokens.arrived++;
    return this.tokens.token(region);
  }
}
